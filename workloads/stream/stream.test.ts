import { beforeAll, describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import {
  compiledWorkload,
  ensureBuilt,
  expectOneConnectionPerHost,
  isRoot,
  loopbackParams,
  runWorkload,
} from '../test-support/real-run.js';
import type { Workload } from '../types.js';
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

describe.runIf(isRoot)('stream workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('stream', 'stream');
  });

  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(w);
  });

  it('receives bulk data; ops are bytes and the latency histogram is empty', async () => {
    const run = await runWorkload(w, loopbackParams(w, { connections: 2 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.bytes).toBeGreaterThan(10_000_000);
    expect(r.ops).toBe(r.bytes);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.latencyUs.count).toBe(0);
    expect(r.latencyUs.p50).toBe(0);
  });
});
