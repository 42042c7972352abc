import { expect, it } from 'vitest';
import { expectOneConnectionPerHost, loopbackParams, realRunSuite, runWorkload } from '../../../workloads/test-support/real-run.js';
import { http } from '../../../workloads/http/index.js';

realRunSuite('http', 'http', (s) => {
  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(s.w);
  });

  it('drives keep-alive requests and records µs latencies', async () => {
    const run = await runWorkload(s.w, loopbackParams(s.w));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors + r.timeouts + r.non2xx).toBe(0);
    expect(r.latencyUs.count).toBe(r.ops);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    expect(r.answeredBy).toEqual({ 'srv-0': r.ops });
    // keep-alive: connections were opened during the warm-up, none in the measured time
    expect(r.connectionsOpened).toBe(0);
    expect(r.bytes).toBeGreaterThan(r.ops * 100); // status line + headers + body per response
    expect(r.durationMs).toBeGreaterThan(990);
    expect(r.cpuUs.user + r.cpuUs.system).toBeGreaterThan(0);
  });

  it('paces at a fixed rate and corrects for coordinated omission', async () => {
    // warm-up 0 and a whole second: autocannon's per-second quotas (lib/httpClient.js) line up
    // with the measured time, so about `rate` requests complete
    const run = await runWorkload(s.w, loopbackParams(s.w, { rate: 400, connections: 2, warmupMs: 0, durationMs: 1000 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(200);
    expect(r.ops).toBeLessThanOrEqual(480);
    // corrected histograms hold at least one value per response (more when one took > 5 ms)
    expect(r.latencyUs.count).toBeGreaterThanOrEqual(r.ops);
  });
});
