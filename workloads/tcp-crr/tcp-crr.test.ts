import { describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { tcpCrr } from './index.js';

describe('tcp-crr workload: argv', () => {
  it('serves with the single-process node echo on 7003', () => {
    const argv = tcpCrr.serverArgv('srv-0');
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/tcp-crr\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--port', '7003']);
    expect(tcpCrr.opUnit).toBe('connections');
  });
  it('runs the compiled node client', () => {
    const argv = tcpCrr.clientArgv({ hosts: ['10.0.0.5'], port: 30003, durationMs: 2000, warmupMs: 500, connections: 2, messageSize: 32 });
    expect(argv[1]).toMatch(/\/workloads\/tcp-crr\/client\.js$/);
    expect(argv).toContain('30003');
  });
});

describe('tcp-crr workload: parseResult', () => {
  it('accepts a result line', () => expect(tcpCrr.parseResult(goodLine())).toEqual(goodResult()));
  it.each(badOutputs)('rejects %s', (_l, stdout, message) => expect(() => tcpCrr.parseResult(stdout)).toThrow(message));
});
