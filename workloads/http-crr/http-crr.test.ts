import { describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { httpCrr } from './index.js';

const params = { hosts: ['10.96.0.10'], port: 80, durationMs: 5000, warmupMs: 1000, connections: 8, messageSize: 64, rate: 100 };

describe('http-crr workload: argv', () => {
  it('reuses the http server program on its own port', () => {
    const argv = httpCrr.serverArgv('srv-1');
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/http\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--name', 'srv-1', '--port', '8081']);
    expect(httpCrr.serverPort).toBe(8081);
  });

  it('runs its own client and does not pace (no --rate)', () => {
    const argv = httpCrr.clientArgv(params);
    expect(argv[1]).toMatch(/\/workloads\/http-crr\/client\.js$/);
    expect(argv).not.toContain('--rate');
    expect(argv.slice(2, 6)).toEqual(['--host', '10.96.0.10', '--port', '80']);
  });
});

describe('http-crr workload: parseResult', () => {
  it('accepts a result line', () => {
    expect(httpCrr.parseResult(goodLine())).toEqual(goodResult());
  });
  it.each(badOutputs)('rejects %s', (_label, stdout, message) => {
    expect(() => httpCrr.parseResult(stdout)).toThrow(message);
  });
});
