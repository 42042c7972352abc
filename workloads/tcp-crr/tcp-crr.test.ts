import { beforeAll, describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { compiledWorkload, ensureBuilt, isRoot, loopbackParams, runWorkload, TWO_HOSTS } from '../test-support/real-run.js';
import type { Workload } from '../types.js';
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

describe.runIf(isRoot)('tcp-crr workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('tcp-crr', 'tcpCrr');
  });

  it('spreads new connections round-robin over several hosts (the pod path): equal shares', async () => {
    const run = await runWorkload(w, loopbackParams(w, { hosts: TWO_HOSTS, warmupMs: 0, durationMs: 500 }), { countTo: true });
    expect(run.code, run.stderr).toBe(0);
    const r = w.parseResult(run.stdout);
    expect(r.errors + r.timeouts).toBe(0);
    const [a, b] = TWO_HOSTS.map((h) => run.countsTo![h]!);
    expect(a! + b!).toBeGreaterThan(50);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(1); // one shared counter: exactly alternating
  });

  it('opens one connection per transaction and times connect-to-echo in µs', async () => {
    const p = loopbackParams(w);
    const run = await runWorkload(w, p);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.connectionsOpened - r.ops).toBeGreaterThanOrEqual(0);
    expect(r.connectionsOpened - r.ops).toBeLessThanOrEqual(p.connections);
    expect(r.bytes).toBe(r.ops * p.messageSize);
    expect(r.latencyUs.count).toBe(r.ops);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
  });

  it('counts refused connections as errors and still prints a result, exit 0', async () => {
    const run = await runWorkload(w, loopbackParams(w, { connections: 1, warmupMs: 0, durationMs: 300 }), { server: false });
    expect(run.code, run.stderr).toBe(0);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.connectionsOpened).toBe(0);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });
});
