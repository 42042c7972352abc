// tcp-crr client: p.connections loops of connect → send p.messageSize bytes → receive the whole
// echo → close. Latency = connect() call to the last byte of the echo (µs, hrtime): handshake
// (where a service's per-connection lookup and NAT setup happen) plus one round trip.
//
// The client closes first, and with RST (socket.resetAndDestroy(), Node ≥ 18.3): a FIN close
// leaves each client socket in TIME_WAIT for 60 s (measured here: 5,443 TIME_WAIT sockets after
// 4 loops × 1 s), which exhausts ephemeral ports and collides with old 4-tuples within seconds
// (reference/environment.md, "Gotchas"). RST leaves no TIME_WAIT on either side, so the result
// does not depend on tcp_tw_reuse; conntrack sees the RST and moves the entry to CLOSE (10 s).
//
// An op counts only when its connection was opened in the measured time, so connectionsOpened − ops
// = connections in flight at the end (plus failed ones): 0 … p.connections on a clean run.

import { connect } from 'node:net';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, nowUs, parseClientArgs } from '../client-kit.js';

const PROG = 'tcp-crr-client';
const a = parseClientArgs(PROG, { timeoutMs: 2_000, messageSize: 64 });
const m = new Measurement(a.warmupMs, a.durationMs);
const tally = newTally();
const latency = new LatencyRecorder();
const errorLog = new ErrorLog();
const message = Buffer.alloc(a.messageSize, 'x');

function once(): void {
  if (m.phase === 'done') return;
  const t0 = nowUs();
  let openedInWindow = false;
  let received = 0;
  let settled = false;
  const s = connect({ host: a.host, port: a.port, noDelay: true });
  const settle = (kind?: 'errors' | 'timeouts', why?: unknown) => {
    if (settled) return;
    settled = true;
    if (kind !== undefined) {
      errorLog.note(why);
      if (m.measuring) tally[kind]++;
    }
    // RST only on a connected socket: resetAndDestroy() on one still connecting waits for the
    // connect (Node net.js), which a black-holed path never completes.
    if (!s.destroyed) kind === undefined ? s.resetAndDestroy() : s.destroy();
    setImmediate(once);
  };
  s.setTimeout(a.timeoutMs);
  s.on('connect', () => {
    if (m.measuring) {
      tally.connectionsOpened++;
      openedInWindow = true;
    }
    s.write(message);
  });
  s.on('data', (chunk) => {
    received += chunk.length;
    if (received < a.messageSize) return;
    if (openedInWindow && m.measuring) {
      tally.ops++;
      tally.bytes += received;
      latency.record(nowUs() - t0);
    }
    settle();
  });
  s.on('timeout', () => settle('timeouts', { code: 'ETIMEDOUT' }));
  s.on('error', (e) => settle('errors', e));
  s.on('end', () => settle('errors', { code: 'EOF' })); // server closed before the whole echo
}

for (let i = 0; i < a.connections; i++) once();
await m.ended;
emitResult(PROG, m, tally, latency, { errorLog });
