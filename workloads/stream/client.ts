// stream client: p.connections TCP connections that only receive; bytes received in the measured
// time are both `bytes` and `ops` (opUnit "bytes"). There is no per-operation latency in a bulk
// transfer, so the latency histogram is empty (count 0, every percentile 0). p.messageSize is not
// used: the server's write size is fixed (socat -b 131072).
//
// Reads go through `onread` into one reused 1 MiB buffer (Node net.connect option): no Buffer per
// chunk, so the client's garbage collector is not what limits the rate. A connection that ends
// or fails is counted as an error and reopened after 10 ms. Connection i goes to
// hosts[i % hosts.length] (client-kit.ts PersistentConnections).
//
// With a schedule (paired blocks) the connections are opened at each window's start and closed at
// its end, as the http client's autocannon runs per window: a path waiting for its next block
// moves no data (a paused reader would still receive a full window of buffered bytes at its next
// block, counted there although sent before it).

import { connect } from 'node:net';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, parseClientArgs, PersistentConnections } from '../client-kit.js';

const PROG = 'stream-client';
const a = parseClientArgs(PROG, { timeoutMs: 2_000, messageSize: 65536 });
const tally = newTally();
const latency = new LatencyRecorder();
const m = Measurement.of(a, { tally, latency });
const errorLog = new ErrorLog();
const readBuffer = Buffer.allocUnsafe(1 << 20);

/** One receiving connection; a silent one times out (the path or the server is stuck). */
const open = (host: string) =>
  connect({
    host,
    port: a.port,
    onread: {
      buffer: readBuffer,
      callback: (n: number) => {
        if (m.measuring) {
          tally.bytes += n;
          tally.ops += n;
        }
        return true;
      },
    },
  });

const connections = new PersistentConnections(m, tally, errorLog, open, a.timeoutMs);
if (a.schedule === undefined) connections.start(a.hosts, a.connections);
else
  m.onWindow(
    () => connections.start(a.hosts, a.connections),
    () => connections.closeAll(),
  );
await m.ended;
connections.closeAll();
emitResult(PROG, m, tally, latency, { errorLog });
