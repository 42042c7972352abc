// http client: autocannon over p.connections keep-alive connections, one run for warm-up plus
// measured time (warm-up responses are discarded by the clock, so connections stay warm across
// the boundary instead of being reopened as autocannon's own `warmup` option does: two _init
// runs, lib/init.js runWithWarmup).
//
// Latency: autocannon's own histogram has 1 ms resolution, so each response time is recorded
// here in µs. autocannon 8 measures it with process.hrtime from the moment the request is queued
// for writing to the end of the parsed response (lib/pipelinedRequestsQueue.js insertRequest /
// terminateRequest: `hrduration[0] * 1e3 + hrduration[1] / 1e6`), i.e. milliseconds WITH
// fractions, passed on as the tracker's 'response' event (lib/run.js onResponse). So µs = ms × 1000.
//
// Fixed rate (--rate): autocannon's overallRate spreads the rate over the connections
// (lib/run.js distributeNums) and paces each connection per second: it sends its quota, then
// pauses until a 1 s interval resets the count (lib/httpClient.js `reqsMadeThisSecond`), so the
// load is bursty within each second. Latencies are corrected for coordinated omission with
// HdrHistogram's recordValueWithExpectedInterval and the nominal per-connection interval
// connections / rate (autocannon itself passes Math.ceil(1 / rate) ms, lib/run.js, which is
// neither per connection nor in our unit). Because the quotas restart each second from the
// start of the run, the measured ops/s equals the rate only over whole seconds: use whole-second
// warm-up and duration with --rate (otherwise one second's quota may fall in or out of the window).

import autocannon from 'autocannon';
import { isIPv6 } from 'node:net';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, parseClientArgs } from '../client-kit.js';

const PROG = 'http-client';
const a = parseClientArgs(PROG, { timeoutMs: 10_000, messageSize: 64 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const answeredBy = new Map<string, number>();
const errorLog = new ErrorLog();

// autocannon reconnects when its connection fails or ends (lib/httpClient.js 'error'/'end' →
// _connect), and overallRate < connections lowers the connection count (lib/run.js line 33).
const connections = a.rate !== undefined ? Math.min(a.connections, a.rate) : a.connections;
const expectedIntervalUs = a.rate !== undefined ? (connections / a.rate) * 1e6 : 0;

/** The parts of autocannon's client (lib/httpClient.js) used here; @types/autocannon types the
 * 'headers' event wrongly: it carries http-parser-js's info object, headers as [k, v, k, v…]. */
interface AcClient {
  conn: import('node:net').Socket;
  _connect(): void;
  on(event: 'headers', cb: (info: { headers: string[] }) => void): void;
}
const podOf = new WeakMap<object, string>();

// Several hosts (the pod path): autocannon takes `url` as an array and gives connection i the URL
// i % urls.length (lib/run.js initialiseClients), as the persistent clients do; its README
// recommends a connection count that is a multiple of the URL count, and with fewer connections
// than hosts the last hosts get none.
const urls = a.hosts.map((h) => `http://${isIPv6(h) ? `[${h}]` : h}:${a.port}/`);

/** One autocannon run of about `runMs` (stopped by our clock), counted by the handlers below. */
function launch(runMs: number): autocannon.Instance {
  const instance = autocannon(
    {
      url: urls as unknown as string, // an array is fine (lib/url.js ofURL); @types/autocannon says string
      connections,
      pipelining: 1,
      // The run is stopped by our clock; autocannon's own timer is only a backstop.
      duration: runMs / 1000 + 30,
      // stop() takes effect at the next sample tick (lib/run.js tickInterval): make that prompt.
      sampleInt: 100,
      timeout: a.timeoutMs / 1000,
      ...(a.rate !== undefined ? { overallRate: a.rate } : {}),
      setupClient(c) {
        const client = c as unknown as AcClient;
        // setupClient runs in the constructor before the first _connect (lib/httpClient.js line
        // 53 vs 109): wrapping _connect sees every connection autocannon opens, reconnects too.
        const connect = client._connect;
        client._connect = function (this: AcClient) {
          connect.call(this);
          this.conn.once('connect', () => {
            if (m.measuring) tally.connectionsOpened++;
          });
        };
        client.on('headers', (info) => {
          const h = info.headers;
          for (let i = 0; i + 1 < h.length; i += 2) {
            if (h[i]!.toLowerCase() === 'x-pod') podOf.set(client, h[i + 1]!);
          }
        });
      },
    },
    (err) => {
      if (err) {
        // Bad options reach here (lib/init.js validateOpts): the client cannot run at all.
        process.stderr.write(`${PROG}: ${(err as Error).message}\n`);
        process.exit(2);
      }
    },
  );

  instance.on('response', (client, statusCode, resBytes, responseTime) => {
    if (!m.measuring) return;
    tally.ops++;
    tally.bytes += resBytes;
    if (statusCode < 200 || statusCode > 299) tally.non2xx++;
    const us = responseTime * 1000;
    if (expectedIntervalUs > 0) latency.recordCorrected(us, expectedIntervalUs);
    else latency.record(us);
    const pod = podOf.get(client) ?? '(no x-pod header)';
    answeredBy.set(pod, (answeredBy.get(pod) ?? 0) + 1);
  });

  // autocannon reports a timeout as reqError 'request timed out' (lib/run.js onTimeout).
  instance.on('reqError', (err: Error) => {
    errorLog.note(err);
    if (!m.measuring) return;
    if (err?.message === 'request timed out') tally.timeouts++;
    else tally.errors++;
  });
  return instance;
}

if (a.schedule === undefined) {
  // One run over the warm-up and the measured time: connections stay warm across the boundary.
  const instance = launch(a.warmupMs + a.durationMs);
  await m.ended;
  instance.stop();
} else {
  // A schedule: one autocannon run per window (its keep-alive connections opened at the window's
  // start), none between windows, so the idle path sends nothing while another path's block runs.
  let current: autocannon.Instance | undefined;
  m.onWindow(
    (w) => (current = launch(w.durationMs)),
    () => {
      current?.stop();
      current = undefined;
    },
  );
  await m.ended;
}
emitResult(PROG, m, tally, latency, { answeredBy, errorLog });
