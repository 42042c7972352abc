// udp-rr client: p.connections UDP sockets, each with one datagram in flight: send
// max(p.messageSize, 4) bytes carrying a sequence number, wait for the echo with that number,
// send the next. No echo within --timeout-ms (default 200 ms) = one lost datagram, counted in
// `timeouts`, and the next one goes out. A late echo (older sequence number) is ignored.
//
// Sockets are not connect()ed: Linux reports ICMP errors (port unreachable) only to connected
// sockets or with IP_RECVERR (net/ipv4/udp.c __udp4_lib_err), so a missing server or a dropped
// path shows up uniformly as loss (timeouts), whatever answers with ICMP on the way. The reply's
// source address is not checked: through a Service it is the VIP after reverse NAT.
//
// Socket i sends to hosts[i % hosts.length], for the whole run (as the persistent TCP clients'
// connections: with fewer sockets than hosts, the last hosts get none).
//
// With a schedule (paired blocks) a socket sends nothing between windows (Measurement.whenActive),
// its loss timer waits with it, and a datagram counts only when it was sent in the measured
// window its echo arrives in.

import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, nowUs, parseClientArgs } from '../client-kit.js';

const PROG = 'udp-rr-client';
const a = parseClientArgs(PROG, { timeoutMs: 200, messageSize: 64 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const errorLog = new ErrorLog();
const size = Math.max(a.messageSize, 4);
const timers: NodeJS.Timeout[] = [];

function start(host: string): void {
  const s = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  const payload = Buffer.alloc(size, 'x');
  let seq = 0;
  let t0 = 0;
  /** The window (Measurement.window) the datagram in flight was sent in; 0: none in flight. */
  let sentIn = 0;
  const send = (): void => {
    if (m.phase === 'done') return;
    if (!m.active) {
      sentIn = 0;
      return m.whenActive(send);
    }
    sentIn = m.window;
    seq = (seq + 1) >>> 0;
    payload.writeUInt32BE(seq, 0);
    t0 = nowUs();
    timer.refresh(); // the one timer per socket restarts at every send: it fires only on loss
    s.send(payload, a.port, host);
  };
  const timer = setTimeout(() => {
    if (sentIn === 0) return; // nothing in flight: the socket waits for the next window
    errorLog.note({ code: 'ETIMEDOUT' });
    if (m.measuring && sentIn === m.window) tally.timeouts++;
    send();
  }, a.timeoutMs);
  timers.push(timer);
  s.on('message', (msg) => {
    if (msg.length < 4 || msg.readUInt32BE(0) !== seq || sentIn === 0) return; // late echo of a timed-out datagram
    if (m.measuring && sentIn === m.window) {
      tally.ops++;
      tally.bytes += msg.length;
      latency.record(nowUs() - t0);
    }
    send();
  });
  s.on('error', (e) => {
    // send errors (e.g. EPERM from a firewall, ENETUNREACH); the timer sends the next datagram
    errorLog.note(e);
    if (m.measuring) tally.errors++;
  });
  send();
}

for (let i = 0; i < a.connections; i++) start(a.hosts[i % a.hosts.length]!);
await m.ended;
for (const t of timers) clearTimeout(t);
emitResult(PROG, m, tally, latency, { errorLog });
