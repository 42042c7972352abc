// tcp-crr client: p.connections loops of connect → send p.messageSize bytes → receive the whole
// echo → close. Latency = connect() call to the last byte of the echo (µs, hrtime): handshake
// (where a service's per-connection lookup and NAT setup happen) plus one round trip. With several
// hosts (the pod path) each new connection goes to one drawn at random, as a Service picks.
//
// The client closes first, and with RST (socket.resetAndDestroy(), Node ≥ 18.3): a FIN close
// leaves each client socket in TIME_WAIT for 60 s (thousands after a few loop-seconds), which
// exhausts ephemeral ports and collides with old 4-tuples within seconds
// (reference/environment.md, "Gotchas"). RST leaves no TIME_WAIT on either side, so the result
// does not depend on tcp_tw_reuse; conntrack sees the RST and moves the entry to CLOSE (10 s).
//
// An op counts only when its connection was opened in the measured time, so connectionsOpened − ops
// = connections in flight at the end (plus failed ones): 0 … p.connections on a clean run.
//
// Per-connection cost (the generator must not be what limits the rate; scripts/bench-loadgen.ts):
// each loop keeps ONE net.Socket and reconnects it after its 'close' (socket.connect() on a closed
// socket is documented for exactly this: every connect is a new TCP connection with a new
// ephemeral port), reads into the shared buffer, and timeouts come from one sweep (client-kit.ts,
// "Lean sockets").

import type { Socket } from 'node:net';
import {
  emitResult,
  ErrorLog,
  LatencyRecorder,
  Measurement,
  newTally,
  nowUs,
  parseClientArgs,
  connectReading,
  randomPick,
  sweepTimeouts,
  type TimedOp,
} from '../client-kit.js';

const PROG = 'tcp-crr-client';
const a = parseClientArgs(PROG, { timeoutMs: 2_000, messageSize: 64 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const errorLog = new ErrorLog();
const message = Buffer.alloc(a.messageSize, 'x');
// Each new connection goes to a host drawn at random (client-kit.ts randomPick: as a Service picks).
const nextTarget = randomPick(a.hosts.map((host) => ({ host, port: a.port, noDelay: true })));

/** One connect → echo → close loop: one transaction at a time, on one reused Socket object. */
class Loop implements TimedOp {
  waiting = false;
  lastActivityUs = 0;
  private socket: Socket | undefined;
  private t0 = 0;
  /** The window (Measurement.window) the connection was opened in while measuring; 0: none. */
  private openedInWindow = 0;
  private received = 0;
  private settled = true;

  next(): void {
    if (m.phase === 'done') return;
    // Between a schedule's windows: no new connection until the next one opens.
    if (!m.active) return m.whenActive(() => this.next());
    this.t0 = this.lastActivityUs = nowUs();
    this.openedInWindow = 0;
    this.received = 0;
    this.settled = false;
    this.waiting = true;
    const target = nextTarget();
    if (this.socket === undefined) this.socket = this.listen(connectReading(target, (n) => this.onRead(n)));
    else this.socket.connect(target);
  }

  private listen(s: Socket): Socket {
    s.on('connect', () => {
      if (m.measuring) {
        tally.connectionsOpened++;
        this.openedInWindow = m.window;
      }
      this.lastActivityUs = nowUs();
      s.write(message);
    });
    s.on('error', (e) => this.settle('errors', e));
    s.on('end', () => this.settle('errors', { code: 'EOF' })); // server closed before the whole echo
    // Every transaction ends here, however it went: the next one starts on a new connection.
    s.on('close', () => {
      if (!this.settled) this.settle('errors', { code: 'CLOSED' }); // closed without a word
      this.next();
    });
    return s;
  }

  private onRead(n: number): void {
    if (this.settled) return;
    this.received += n;
    if (this.received < a.messageSize) {
      this.lastActivityUs = nowUs();
      return;
    }
    if (this.openedInWindow === m.window && m.measuring) {
      tally.ops++;
      tally.bytes += this.received;
      latency.record(nowUs() - this.t0);
    }
    this.settle();
  }

  settle(kind?: 'errors' | 'timeouts', why?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.waiting = false;
    if (kind !== undefined) {
      errorLog.note(why);
      if (m.measuring) tally[kind]++;
    }
    // RST only on a connected socket: resetAndDestroy() on one still connecting waits for the
    // connect (Node net.js), which a black-holed path never completes.
    const s = this.socket!;
    if (!s.destroyed) kind === undefined ? s.resetAndDestroy() : s.destroy();
  }
}

const loops = Array.from({ length: a.connections }, () => new Loop());
sweepTimeouts(loops, a.timeoutMs, (l) => l.settle('timeouts', { code: 'ETIMEDOUT' }));
for (const l of loops) l.next();
await m.ended;
emitResult(PROG, m, tally, latency, { errorLog });
