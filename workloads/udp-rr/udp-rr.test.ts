import { describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { udpRr } from './index.js';

describe('udp-rr workload: argv', () => {
  it('serves with the node dgram echo on 7002/UDP', () => {
    const argv = udpRr.serverArgv('srv-0');
    expect(argv[1]).toMatch(/\/workloads\/udp-rr\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--port', '7002']);
    expect(udpRr.protocol).toBe('UDP');
  });
  it('runs the compiled node client', () => {
    const argv = udpRr.clientArgv({ hosts: ['10.0.0.5'], port: 53, durationMs: 2000, warmupMs: 500, connections: 2, messageSize: 32 });
    expect(argv[1]).toMatch(/\/workloads\/udp-rr\/client\.js$/);
  });
});

describe('udp-rr workload: parseResult', () => {
  it('accepts a result line', () => expect(udpRr.parseResult(goodLine())).toEqual(goodResult()));
  it.each(badOutputs)('rejects %s', (_l, stdout, message) => expect(() => udpRr.parseResult(stdout)).toThrow(message));
});
