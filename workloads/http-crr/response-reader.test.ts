import { describe, expect, it } from 'vitest';
import { HttpParseError, HttpResponseReader } from './response-reader.js';

const res = (head: string, body = '') => Buffer.from(`${head}\r\n\r\n${body}`, 'latin1');

describe('HttpResponseReader', () => {
  it('reads a Content-Length response in one read, with the wanted headers', () => {
    const r = new HttpResponseReader(['x-pod']);
    const b = res('HTTP/1.1 200 OK\r\nX-Pod: srv-1\r\nContent-Length: 2', 'ok');
    expect(r.push(b, 0, b.length)).toBe(b.length);
    expect([r.status, r.bytes, r.keepAlive, r.values]).toEqual([200, b.length, true, ['srv-1']]);
  });

  it('reads a response split byte by byte, and the next one after it', () => {
    const r = new HttpResponseReader();
    const one = res('HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 3', 'abc');
    const b = Buffer.concat([one, res('HTTP/1.1 200 OK\r\nContent-Length: 0')]);
    let done = -1;
    for (let i = 0; i < one.length && done < 0; i++) done = r.push(b, i, i + 1);
    expect([done, r.status, r.keepAlive, r.bytes, r.partial]).toEqual([one.length, 503, false, one.length, false]);
    expect(r.push(b, one.length, b.length)).toBe(b.length);
    expect(r.status).toBe(200);
  });

  it('ends a body without a length with the connection', () => {
    const r = new HttpResponseReader();
    const b = res('HTTP/1.0 200 OK', 'tail');
    expect(r.push(b, 0, b.length)).toBe(-1);
    expect([r.keepAlive, r.end()]).toEqual([false, true]);
  });

  it('rejects what svcbench servers never send', () => {
    for (const head of ['HTTP/1.1 100 Continue', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', 'SSH-2.0-x\r\nfoo: bar']) {
      const b = res(head);
      expect(() => new HttpResponseReader().push(b, 0, b.length)).toThrow(HttpParseError);
    }
  });
});
