// stream client: p.connections TCP connections that only receive; bytes received in the measured
// time are both `bytes` and `ops` (opUnit "bytes"). There is no per-operation latency in a bulk
// transfer, so the latency histogram is empty (count 0, every percentile 0). p.messageSize is not
// used: the server's write size is fixed (socat -b 131072).
//
// Reads go through `onread` into one reused 1 MiB buffer (Node net.connect option): no Buffer per
// chunk, so the client's garbage collector is not what limits the rate. A connection that ends
// or fails is counted as an error and reopened after 10 ms. Connection i goes to
// hosts[i % hosts.length] (client-kit.ts PersistentConnections).

import { connect } from 'node:net';
import { emitResult, ErrorLog, LatencyRecorder, Measurement, newTally, parseClientArgs, PersistentConnections } from '../client-kit.js';

const PROG = 'stream-client';
const a = parseClientArgs(PROG, { timeoutMs: 2_000, messageSize: 65536 });
const m = Measurement.of(a);
const tally = newTally();
const latency = new LatencyRecorder();
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
        if (m.measuring) tally.bytes += n;
        return true;
      },
    },
  });

const connections = new PersistentConnections(m, tally, errorLog, open, a.timeoutMs);
connections.start(a.hosts, a.connections);
await m.ended;
connections.closeAll();
tally.ops = tally.bytes;
emitResult(PROG, m, tally, latency, { errorLog });
