// tcp-crr server: a single-process node:net echo, `node server.js --port 7003`.
// Not socat: socat forks a process per connection, which capped a connection-per-transaction
// loop at about 1,100 connections/s on this machine's loopback (8 client loops), while this
// single event loop served the same kind of node client at 2,600-3,900/s (1-4 loops), the client
// then using most of a core: the server is not the bottleneck. Clients close with RST, so 'error'
// (ECONNRESET) is the normal end of a connection here and is ignored.

import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

let port: number;
try {
  const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
  port = Number(values.port ?? 7003);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1-65535, got ${values.port}`);
} catch (e) {
  process.stderr.write(`tcp-crr server: ${(e as Error).message}\nusage: server.js [--port N]\n`);
  process.exit(2);
}

createServer({ noDelay: true }, (socket) => {
  socket.on('error', () => {});
  socket.on('data', (chunk) => socket.write(chunk));
}).listen({ port, host: '0.0.0.0', backlog: 4096 });

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
