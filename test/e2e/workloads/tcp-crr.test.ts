import { beforeAll, describe, expect, it } from 'vitest';
import { compiledWorkload, ensureBuilt, isRoot, loopbackParams, runWorkload, TWO_HOSTS } from '../../../workloads/test-support/real-run.js';
import type { Workload } from '../../../workloads/types.js';
import { tcpCrr } from '../../../workloads/tcp-crr/index.js';

describe.runIf(isRoot)('tcp-crr workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('tcp-crr', 'tcpCrr');
  });

  it('spreads new connections over several hosts at random (the pod path): both get a share', async () => {
    const run = await runWorkload(w, loopbackParams(w, { hosts: TWO_HOSTS, warmupMs: 0, durationMs: 500 }), { countTo: true });
    expect(run.code, run.stderr).toBe(0);
    const r = w.parseResult(run.stdout);
    expect(r.errors + r.timeouts).toBe(0);
    const [a, b] = TWO_HOSTS.map((h) => run.countsTo![h]!);
    expect(a! + b!).toBeGreaterThan(50);
    // independent draws: each host's share of n is binomial(n, 1/2), far inside [0.25, 0.75] for n > 50
    expect(Math.min(a!, b!) / (a! + b!)).toBeGreaterThan(0.25);
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
