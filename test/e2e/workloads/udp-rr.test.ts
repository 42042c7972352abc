import { expect, it } from 'vitest';
import { expectScheduledBlocks, loopbackParams, realRunSuite, runWorkload, TWO_HOSTS } from '../../../workloads/test-support/real-run.js';
import { udpRr } from '../../../workloads/udp-rr/index.js';

realRunSuite('udp-rr', 'udpRr', (s) => {
  it('sends from socket i to host i % hosts (the pod path): 2 sockets, both hosts answered', async () => {
    const run = await runWorkload(s.w, loopbackParams(s.w, { hosts: TWO_HOSTS, connections: 2, warmupMs: 0, durationMs: 500 }), {
      countTo: true,
    });
    expect(run.code, run.stderr).toBe(0);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    const [a, b] = TWO_HOSTS.map((h) => run.countsTo![h]!);
    // one datagram in flight per socket, the same server behind both: about half each
    expect(a! / (a! + b!)).toBeGreaterThan(0.3);
    expect(a! / (a! + b!)).toBeLessThan(0.7);
  });

  it('echoes datagrams and records µs round trips', async () => {
    const run = await runWorkload(s.w, loopbackParams(s.w));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors).toBe(0);
    expect(r.timeouts).toBeLessThanOrEqual(r.ops / 100); // loopback loses (next to) nothing
    expect(r.bytes).toBe(r.ops * 64);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    expect(r.connectionsOpened).toBe(0);
  });

  it('counts lost datagrams as timeouts when no server answers', async () => {
    const p = loopbackParams(s.w, { connections: 2, warmupMs: 0, durationMs: 1000 });
    const run = await runWorkload(s.w, p, { server: false });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    // 200 ms per-datagram timeout: about 5 per socket per second
    expect(r.timeouts).toBeGreaterThanOrEqual(2 * 4);
    expect(r.timeouts).toBeLessThanOrEqual(2 * 5);
    expect(r.latencyUs.count).toBe(0);
  });

  it('follows a schedule (paired blocks): one block per measured window, idle between them', async () => {
    const r = await expectScheduledBlocks(s.w);
    expect(r.latencyUs.count).toBe(r.ops);
  });
});
