// http-crr client: p.connections loops, each doing GET / on a NEW TCP connection (node:http with
// agent: false and `Connection: close`), timed with hrtime from request creation (before the
// connect) to the end of the response, so connection setup is inside the latency.
//
// Proof of one connection per request, from both ends: the client counts socket 'connect' events,
// and the server numbers requests per connection (x-req-seq, workloads/http/server.ts); any
// response with x-req-seq other than 1 is counted as an error. An op is counted only when its
// connection was opened in the measured time, so connectionsOpened − ops = requests in flight at
// the end (plus failed ones), between 0 and p.connections on a clean run.
//
// TIME_WAIT: the server closes first (it answers `Connection: close` and ends the socket), so
// TIME_WAIT sockets sit on the server side (the sandbox sets tcp_max_tw_buckets=0 there) and the
// client's ephemeral ports are free again as soon as the connection is gone.

import { request } from 'node:http';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, nowUs, parseClientArgs } from '../client-kit.js';

const PROG = 'http-crr-client';
const a = parseClientArgs(PROG, { timeoutMs: 10_000, messageSize: 64 });
const m = new Measurement(a.warmupMs, a.durationMs);
const tally = newTally();
const latency = new LatencyRecorder();
const answeredBy = new Map<string, number>();
const errorLog = new ErrorLog();

class ConnectionReused extends Error {
  readonly code = 'CONNECTION_REUSED';
}

function once(): void {
  if (m.phase === 'done') return;
  const t0 = nowUs();
  let openedInWindow = false;
  let bytesRead = () => 0;
  let settled = false;
  const settle = (err?: Error & { code?: string }) => {
    if (settled) return;
    settled = true;
    if (err !== undefined) {
      errorLog.note(err);
      if (m.measuring) {
        if (err.code === 'ETIMEDOUT') tally.timeouts++;
        else tally.errors++;
      }
    }
    setImmediate(once);
  };

  const req = request({
    host: a.host,
    port: a.port,
    path: '/',
    agent: false, // a fresh socket for this request, never pooled
    headers: { connection: 'close' },
    timeout: a.timeoutMs,
  });
  req.on('socket', (socket) => {
    bytesRead = () => socket.bytesRead;
    socket.once('connect', () => {
      if (m.measuring) {
        tally.connectionsOpened++;
        openedInWindow = true;
      }
    });
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
  req.on('error', settle);
  req.on('response', (res) => {
    res.resume();
    res.on('error', settle);
    res.on('end', () => {
      if (settled) return;
      if (openedInWindow && m.measuring) {
        tally.ops++;
        tally.bytes += bytesRead(); // status line, headers and body
        latency.record(nowUs() - t0);
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) tally.non2xx++;
        const pod = String(res.headers['x-pod'] ?? '(no x-pod header)');
        answeredBy.set(pod, (answeredBy.get(pod) ?? 0) + 1);
        if (res.headers['x-req-seq'] !== '1') {
          settle(new ConnectionReused(`server saw request ${String(res.headers['x-req-seq'])} on one connection`));
          return;
        }
      }
      settle();
    });
  });
  req.end();
}

for (let i = 0; i < a.connections; i++) once();
await m.ended;
emitResult(PROG, m, tally, latency, { answeredBy, errorLog });
