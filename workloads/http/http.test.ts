import { describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { http } from './index.js';

const params = { hosts: ['10.96.0.10'], port: 80, durationMs: 5000, warmupMs: 1000, connections: 8, messageSize: 64 };

describe('http workload: argv', () => {
  it('runs the compiled node server with the pod name on port 8080', () => {
    const argv = http.serverArgv('srv-3');
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/http\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--name', 'srv-3', '--port', '8080']);
    expect(http.serverPort).toBe(8080);
  });

  it('passes every parameter to the client, and the rate only when set', () => {
    const argv = http.clientArgv(params);
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/http\/client\.js$/);
    expect(argv.slice(2)).toEqual([
      '--host',
      '10.96.0.10',
      '--port',
      '80',
      '--duration-ms',
      '5000',
      '--warmup-ms',
      '1000',
      '--connections',
      '8',
      '--message-size',
      '64',
    ]);
    expect(http.clientArgv({ ...params, rate: 1000 }).slice(-2)).toEqual(['--rate', '1000']);
  });
});

describe('http workload: parseResult', () => {
  it('accepts a result line', () => {
    expect(http.parseResult(goodLine())).toEqual(goodResult());
  });
  it.each(badOutputs)('rejects %s with a clear message', (_label, stdout, message) => {
    expect(() => http.parseResult(stdout)).toThrow(message);
    expect(() => http.parseResult(stdout)).toThrow(/^http client: /);
  });
});
