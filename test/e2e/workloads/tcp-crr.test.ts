import { expect, it } from 'vitest';
import { expectRandomSpread, loopbackParams, realRunSuite, runWorkload } from '../../../workloads/test-support/real-run.js';
import { tcpCrr } from '../../../workloads/tcp-crr/index.js';

realRunSuite('tcp-crr', 'tcpCrr', (s) => {
  it('spreads new connections over several hosts at random (the pod path): both get a share', () => expectRandomSpread(s.w));

  it('opens one connection per transaction and times connect-to-echo in µs', async () => {
    const p = loopbackParams(s.w);
    const run = await runWorkload(s.w, p);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
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
    const run = await runWorkload(s.w, loopbackParams(s.w, { connections: 1, warmupMs: 0, durationMs: 300 }), { server: false });
    expect(run.code, run.stderr).toBe(0);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    expect(r.errors).toBeGreaterThan(0);
    expect(r.connectionsOpened).toBe(0);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });
});
