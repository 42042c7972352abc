// http-crr client: p.connections loops, each doing GET / on a NEW TCP connection with
// `Connection: close`, timed with hrtime from the connect() call to the end of the response, so
// connection setup is inside the latency. With several hosts (the pod path) each new connection
// goes to one drawn at random, as a Service picks.
//
// Proof of one connection per request, from both ends: the client counts socket 'connect' events,
// and the server numbers requests per connection (x-req-seq, workloads/http/server.ts); any
// response with x-req-seq other than 1 is counted as an error. An op is counted only when its
// connection was opened in the measured time, so connectionsOpened − ops = requests in flight at
// the end (plus failed ones), between 0 and p.connections on a clean run.
//
// TIME_WAIT: the server closes first (it answers `Connection: close` and ends the socket; the
// client closes its side only on the server's FIN), so TIME_WAIT sockets sit on the server side
// (the sandbox sets tcp_max_tw_buckets=0 there) and the client's ephemeral ports are free again as
// soon as the connection is gone.
//
// HTTP is written and read here directly (one prepared request, response-reader.ts),
// not with node:http: with `agent: false`, node:http builds a ClientRequest, an Agent, a parser and
// a Socket per request, several times wrk's CPU per request (workloads/README.md,
// scripts/bench-loadgen.ts). Each loop keeps ONE net.Socket and reconnects it after its
// 'close' (documented use of socket.connect(); each connect is a new TCP connection), reads into
// the shared buffer, and timeouts come from one sweep (client-kit.ts, "Lean sockets").

import { isIPv6, type Socket } from 'node:net';
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
import { HttpParseError, HttpResponseReader } from './response-reader.js';

const PROG = 'http-crr-client';
const a = parseClientArgs(PROG, { timeoutMs: 10_000, messageSize: 64 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const answeredBy = new Map<string, number>();
const errorLog = new ErrorLog();

/** Each new connection goes to a host drawn at random, with its own prepared request (client-kit.ts
 * randomPick: as a Service picks). */
const nextTarget = randomPick(
  a.hosts.map((host) => {
    const hostHeader = `${isIPv6(host) ? `[${host}]` : host}:${a.port}`;
    return {
      connect: { host, port: a.port, noDelay: true },
      request: Buffer.from(`GET / HTTP/1.1\r\nHost: ${hostHeader}\r\nConnection: close\r\n\r\n`, 'latin1'),
    };
  }),
);
const NO_POD = '(no x-pod header)';
const X_POD = 0;
const X_REQ_SEQ = 1;

class ConnectionReused extends Error {
  readonly code = 'CONNECTION_REUSED';
}
const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

/** One request-per-connection loop on one reused Socket object. */
class Loop implements TimedOp {
  readonly reader = new HttpResponseReader(['x-pod', 'x-req-seq']);
  /** From connect() until the connection is closed (the server's FIN included). */
  waiting = false;
  lastActivityUs = 0;
  private socket: Socket | undefined;
  private request = Buffer.alloc(0);
  private t0 = 0;
  /** The window (Measurement.window) the connection was opened in while measuring; 0: none. */
  private openedInWindow = 0;
  /** The request is accounted for (answered or failed); the connection may still be closing. */
  private settled = true;

  next(): void {
    if (m.phase === 'done') return;
    // Between a schedule's windows: no new connection until the next one opens.
    if (!m.active) return m.whenActive(() => this.next());
    this.t0 = this.lastActivityUs = nowUs();
    this.openedInWindow = 0;
    this.settled = false;
    this.waiting = true;
    this.reader.reset();
    const target = nextTarget();
    this.request = target.request;
    if (this.socket === undefined) this.socket = this.listen(connectReading(target.connect, (n, buf) => this.onRead(n, buf)));
    else this.socket.connect(target.connect);
  }

  private listen(s: Socket): Socket {
    s.on('connect', () => {
      if (m.measuring) {
        tally.connectionsOpened++;
        this.openedInWindow = m.window;
      }
      this.lastActivityUs = nowUs();
      s.write(this.request);
    });
    s.on('error', (e) => this.settle(e));
    // The server's FIN: after a complete response it is the expected close; before, it either
    // ends a body without a length or cuts the response short. Either way our side closes now:
    // close(2) answers with our FIN (the server, which closed first, keeps the TIME_WAIT), and
    // skips Node's graceful end() → shutdown(2) → close(2) over three loop turns.
    s.on('end', () => {
      if (!this.settled) {
        if (this.reader.end()) this.complete(nowUs());
        else this.settle(fail('EOF', 'connection closed before the whole response'));
      }
      s.destroy();
    });
    s.on('close', () => {
      this.waiting = false;
      // (an Error only when needed: capturing its stack costs more than the rest of this handler)
      if (!this.settled) this.settle(fail('CLOSED', 'connection closed before the response'));
      this.next();
    });
    return s;
  }

  timeout(): void {
    if (this.settled)
      this.socket!.destroy(); // answered, but the server never closed
    else this.settle(fail('ETIMEDOUT', 'request timed out'));
  }

  private onRead(n: number, buf: Buffer): void {
    if (this.settled) return;
    const now = nowUs();
    this.lastActivityUs = now;
    let done: number;
    try {
      done = this.reader.push(buf, 0, n);
    } catch (e) {
      this.settle(e as Error);
      return;
    }
    if (done < 0) return;
    if (done < n) this.settle(new HttpParseError('bytes after the response'));
    else this.complete(now);
  }

  private complete(now: number): void {
    const r = this.reader;
    if (this.openedInWindow === m.window && m.measuring) {
      tally.ops++;
      tally.bytes += r.bytes; // status line, headers and body
      latency.record(now - this.t0);
      if (r.status < 200 || r.status > 299) tally.non2xx++;
      const pod = r.values[X_POD] ?? NO_POD;
      answeredBy.set(pod, (answeredBy.get(pod) ?? 0) + 1);
      const seq = r.values[X_REQ_SEQ];
      if (seq !== '1') {
        this.settle(new ConnectionReused(`server saw request ${String(seq)} on one connection`));
        return;
      }
    }
    this.settled = true;
    // A server that ignored `Connection: close` would keep the connection: close it here.
    if (r.keepAlive) this.socket!.destroy();
  }

  /** The request failed: count it and close the connection ('close' starts the next one). */
  private settle(err: Error & { code?: string }): void {
    if (this.settled) return;
    this.settled = true;
    errorLog.note(err);
    if (m.measuring) {
      if (err.code === 'ETIMEDOUT') tally.timeouts++;
      else tally.errors++;
    }
    this.socket!.destroy();
  }
}

const loops = Array.from({ length: a.connections }, () => new Loop());
sweepTimeouts(loops, a.timeoutMs, (l) => l.timeout());
for (const l of loops) l.next();
await m.ended;
emitResult(PROG, m, tally, latency, { answeredBy, errorLog });
