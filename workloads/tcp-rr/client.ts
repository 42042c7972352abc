// tcp-rr client: p.connections persistent TCP connections (TCP_NODELAY), each sending a
// p.messageSize-byte message and waiting for all of its echo before sending the next. One
// transaction = one round trip; its time (µs, hrtime) goes into the histogram. A connection that
// fails or closes is counted (errors; idle longer than --timeout-ms while waiting: timeouts) and
// reopened after 10 ms, so a dead path does not spin the CPU. Connection i goes to
// hosts[i % hosts.length] and keeps that host when reopened (client-kit.ts PersistentConnections).
//
// With a schedule (paired blocks) a connection sends nothing between windows: after an echo it
// waits for the next window (Measurement.whenActive), and a transaction counts only when it was
// sent in the measured window it completes in, so no block holds another window's round trip.

import { connect } from 'node:net';
import {
  emitResult,
  ErrorLog,
  LatencyRecorder,
  Measurement,
  newTally,
  nowUs,
  parseClientArgs,
  PersistentConnections,
} from '../client-kit.js';

const PROG = 'tcp-rr-client';
const a = parseClientArgs(PROG, { timeoutMs: 2_000, messageSize: 64 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const errorLog = new ErrorLog();
const message = Buffer.alloc(a.messageSize, 'x');

/** One connection: send, wait for the whole echo, record, send again. */
function open(host: string) {
  const s = connect({ host, port: a.port, noDelay: true });
  let received = 0;
  let t0 = 0;
  /** The window (Measurement.window) the transaction in flight was sent in. */
  let sentIn = 0;
  const send = (): void => {
    if (m.phase === 'done' || s.destroyed) return;
    if (!m.active) return m.whenActive(send);
    received = 0;
    sentIn = m.window;
    t0 = nowUs();
    s.write(message);
  };
  s.on('connect', send);
  s.on('data', (chunk) => {
    received += chunk.length;
    const counted = m.measuring && sentIn === m.window;
    if (counted) tally.bytes += chunk.length;
    if (received < a.messageSize) return;
    if (counted) {
      tally.ops++;
      latency.record(nowUs() - t0);
    }
    if (received > a.messageSize) {
      // An echo never sends more than was asked: the stream is out of step, start over.
      s.destroy(Object.assign(new Error('echo longer than the request'), { code: 'EPROTO' }));
      return;
    }
    send();
  });
  return s;
}

const connections = new PersistentConnections(m, tally, errorLog, open, a.timeoutMs);
connections.start(a.hosts, a.connections);
await m.ended;
connections.closeAll();
emitResult(PROG, m, tally, latency, { errorLog });
