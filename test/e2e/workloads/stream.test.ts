import { expect, it } from 'vitest';
import {
  expectOneConnectionPerHost,
  expectScheduledBlocks,
  loopbackParams,
  realRunSuite,
  runWorkload,
} from '../../../workloads/test-support/real-run.js';
import { stream } from '../../../workloads/stream/index.js';

realRunSuite('stream', 'stream', (s) => {
  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(s.w);
  });

  it('receives bulk data; ops are bytes and the latency histogram is empty', async () => {
    const run = await runWorkload(s.w, loopbackParams(s.w, { connections: 2 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.bytes).toBeGreaterThan(10_000_000);
    expect(r.ops).toBe(r.bytes);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.latencyUs.count).toBe(0);
    expect(r.latencyUs.p50).toBe(0);
  });

  it('follows a schedule (paired blocks): one block per measured window, idle between them', async () => {
    const r = await expectScheduledBlocks(s.w);
    // Opened at each window's start and closed at its end: no data moves between blocks.
    for (const b of r.blocks ?? []) expect(b.connectionsOpened).toBe(2);
    expect(r.bytes).toBe(r.ops);
  });
});
