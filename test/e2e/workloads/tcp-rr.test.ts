import { expect, it } from 'vitest';
import {
  expectOneConnectionPerHost,
  expectScheduledBlocks,
  loopbackParams,
  realRunSuite,
  runWorkload,
} from '../../../workloads/test-support/real-run.js';
import { tcpRr } from '../../../workloads/tcp-rr/index.js';

realRunSuite('tcp-rr', 'tcpRr', (s) => {
  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(s.w);
  });

  it('echoes whole messages on persistent connections', async () => {
    // 3000 bytes: more than one segment's worth on some paths, so partial reads are exercised
    const run = await runWorkload(s.w, loopbackParams(s.w, { messageSize: 3000 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.latencyUs.count).toBe(r.ops);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    // every transaction received its whole echo (± the one in progress per connection at the edges)
    expect(Math.abs(r.bytes - r.ops * 3000)).toBeLessThanOrEqual(2 * 4 * 3000);
    expect(r.connectionsOpened).toBe(0); // persistent: opened during the warm-up
    expect(r.answeredBy).toBeUndefined();
  });

  it('counts refused connections as errors and retries each after 10 ms, without spinning', async () => {
    // No server: every connect is refused (RST). 4 connections × 1 s / (10 ms + a connect) is
    // at most 400 attempts; a retry loop without the pause would make tens of thousands.
    const run = await runWorkload(s.w, loopbackParams(s.w), { server: false });
    expect(run.code, run.stderr).toBe(0);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    expect(r.connectionsOpened).toBe(0);
    expect(r.errors).toBeGreaterThan(40);
    expect(r.errors).toBeLessThanOrEqual(400);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });

  it('follows a schedule (paired blocks): one block per measured window, idle between them', async () => {
    const r = await expectScheduledBlocks(s.w);
    // Persistent: opened in the warm-up and kept while idle between windows.
    for (const b of r.blocks ?? []) expect(b.connectionsOpened).toBe(0);
    expect(r.latencyUs.count).toBe(r.ops);
  });
});
