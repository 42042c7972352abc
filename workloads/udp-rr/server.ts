// udp-rr server: a single-process node:dgram echo, `node server.js --port 7002`.
// Not socat (figures in workloads/README.md):
//  - `UDP4-RECVFROM:7002,fork PIPE` forks a process per datagram, the bottleneck at once;
//  - `UDP4-LISTEN:7002,fork PIPE` forks one child per client address but loses datagrams while
//    forking for a new peer (loss that is the server's, not the path's), and its children never
//    exit (no EOF in UDP), one per client socket per run, for ever.
// One socket in one event loop has neither problem and is not the bottleneck.

import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';

let port: number;
try {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  port = Number(values.port ?? 7002);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1-65535, got ${values.port}`);
} catch (e) {
  process.stderr.write(`udp-rr server: ${(e as Error).message}\nusage: server.js [--port N]\n`);
  process.exit(2);
}

// A larger receive buffer absorbs bursts from many client sockets (capped by net.core.rmem_max).
const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
socket.on('message', (msg, peer) => socket.send(msg, peer.port, peer.address));
socket.on('error', (e) => process.stderr.write(`udp-rr server: ${e.message}\n`));
socket.bind(port, '0.0.0.0');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
