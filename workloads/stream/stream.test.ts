import { describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { stream } from './index.js';

describe('stream workload: argv', () => {
  it('serves /dev/zero with socat, one way, on 7004', () => {
    expect(stream.serverArgv('srv-0')).toEqual([
      'socat',
      '-U',
      '-b',
      '131072',
      'TCP4-LISTEN:7004,reuseaddr,fork,backlog=1024',
      'OPEN:/dev/zero',
    ]);
    expect(stream.opUnit).toBe('bytes');
  });
  it('runs the compiled node client', () => {
    const argv = stream.clientArgv({
      hosts: ['10.0.0.5'],
      port: 7004,
      durationMs: 2000,
      warmupMs: 500,
      connections: 1,
      messageSize: 65536,
    });
    expect(argv[1]).toMatch(/\/workloads\/stream\/client\.js$/);
  });
});

describe('stream workload: parseResult', () => {
  it('accepts a result line', () => expect(stream.parseResult(goodLine())).toEqual(goodResult()));
  it.each(badOutputs)('rejects %s', (_l, stdout, message) => expect(() => stream.parseResult(stdout)).toThrow(message));
});
