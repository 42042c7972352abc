import { expect, it } from 'vitest';
import { expectRandomSpread, loopbackParams, realRunSuite, runInNetns, runWorkload } from '../../../workloads/test-support/real-run.js';
import { httpCrr } from '../../../workloads/http-crr/index.js';

realRunSuite('http-crr', 'httpCrr', (s) => {
  it('spreads new connections over several hosts at random (the pod path): both get a share', () => expectRandomSpread(s.w));

  it('opens exactly one TCP connection per request', async () => {
    const p = loopbackParams(s.w);
    const run = await runWorkload(s.w, p);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = s.w.parseResult(run.stdout);
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
    const run = await runInNetns({ server: s.w.serverArgv('srv-7'), client: [process.execPath, '-e', probe], protocol: 'TCP', port: 8081 });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      ['1', '1', 'srv-7'],
      ['1', '2', 'srv-7'],
      ['2', '1', 'srv-7'],
    ]);
  });
});
