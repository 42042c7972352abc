// HTTP server of the http and http-crr workloads, one per port in every server pod:
//   node server.js --name POD --port 8080
// Answers every request 200 with the pod's name in the body and in `x-pod`, plus two counters
// that let a client prove how connections were used: `x-conn-seq` (this server's connection
// number, from 1) and `x-req-seq` (the request's number on its connection, from 1). A
// connection-per-request client must only ever see x-req-seq: 1.

import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';

let name: string;
let port: number;
try {
  const { values } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' } }, strict: true });
  if (values.name === undefined || values.name === '') throw new Error('--name is required');
  port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be 1-65535, got ${values.port}`);
  name = values.name;
} catch (e) {
  process.stderr.write(`http server: ${(e as Error).message}\nusage: server.js --name POD [--port N]\n`);
  process.exit(2);
}

const body = Buffer.from(`${name}\n`);
let connections = 0;
const perSocket = new WeakMap<Socket, { conn: number; reqs: number }>();

const server = createServer((req, res) => {
  const s = perSocket.get(req.socket) ?? { conn: 0, reqs: 0 };
  s.reqs += 1;
  req.resume(); // drain any request body so keep-alive continues
  res.writeHead(200, {
    'content-type': 'text/plain',
    'content-length': body.length,
    'x-pod': name,
    'x-conn-seq': String(s.conn),
    'x-req-seq': String(s.reqs),
  });
  res.end(body);
});
server.on('connection', (socket: Socket) => {
  connections += 1;
  perSocket.set(socket, { conn: connections, reqs: 0 });
  socket.setNoDelay(true);
});
// Keep-alive clients (autocannon) send back-to-back; Node's 5 s default idle timeout only matters
// between runs. No per-socket request cap (maxRequestsPerSocket 0, the default).
server.keepAliveTimeout = 65_000;
server.on('clientError', (_err, socket) => socket.destroy());
server.listen({ port, host: '0.0.0.0', backlog: 4096 });

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
