import { describe, expect, it } from 'vitest';
import { parseReply } from './reply.js';

describe('parseReply', () => {
  it("splits an ident server's answer into name, peer and TTL", () => {
    expect(parseReply('srv-1 198.18.0.1 62')).toEqual({ reply: 'srv-1', peer: '198.18.0.1', ttl: 62 });
    expect(parseReply('srv-1 10.244.0.4 ?')).toEqual({ reply: 'srv-1', peer: '10.244.0.4' });
  });
  it('leaves other answers as they are', () => {
    expect(parseReply('srv-0')).toEqual({ reply: 'srv-0' });
    expect(parseReply('HTTP/1.1 200 OK')).toEqual({ reply: 'HTTP/1.1 200 OK' });
  });
});
