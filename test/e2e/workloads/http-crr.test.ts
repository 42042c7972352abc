import { beforeAll, describe, expect, it } from 'vitest';
import {
  compiledWorkload,
  ensureBuilt,
  isRoot,
  loopbackParams,
  runInNetns,
  runWorkload,
  TWO_HOSTS,
} from '../../../workloads/test-support/real-run.js';
import type { Workload } from '../../../workloads/types.js';
import { httpCrr } from '../../../workloads/http-crr/index.js';

describe.runIf(isRoot)('http-crr workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('http-crr', 'httpCrr');
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

  it('opens exactly one TCP connection per request', async () => {
    const p = loopbackParams(w);
    const run = await runWorkload(w, p);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    // errors would include any response the server numbered as 2nd+ request on its connection
    expect(r.errors + r.timeouts + r.non2xx).toBe(0);
    // client side: one 'connect' per request, plus at most one in flight per loop at the end
    expect(r.connectionsOpened - r.ops).toBeGreaterThanOrEqual(0);
    expect(r.connectionsOpened - r.ops).toBeLessThanOrEqual(p.connections);
    expect(r.answeredBy).toEqual({ 'srv-0': r.ops });
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
  });

  it('the server numbers connections and requests, so the client check is not vacuous', async () => {
    // Two requests on one keep-alive connection, then one on a new connection.
    const probe = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const get = (a) => new Promise((ok, ko) => http.get({ hosts: ['127.0.0.1'], port: 8081, agent: a }, (res) => {
        res.resume(); res.on('end', () => ok([res.headers['x-conn-seq'], res.headers['x-req-seq'], res.headers['x-pod']]));
      }).on('error', ko));
      (async () => {
        const out = [await get(agent), await get(agent), await get(false)];
        agent.destroy();
        console.log(JSON.stringify(out));
      })();`;
    const run = await runInNetns({ server: w.serverArgv('srv-7'), client: [process.execPath, '-e', probe], protocol: 'TCP', port: 8081 });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      ['1', '1', 'srv-7'],
      ['1', '2', 'srv-7'],
      ['2', '1', 'srv-7'],
    ]);
  });
});
