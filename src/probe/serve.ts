#!/usr/bin/env node
// The conformance server that runs in each server pod: it answers every TCP connection and every
// UDP datagram with its pod's name, so a probe knows which endpoint a Service sent it to.
//
//   node serve.js --name srv-0 --tcp 8080[,8081…] [--udp 5353]

import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const args = process.argv.slice(2);
const opt = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const name = opt('--name') ?? 'unknown';
const tcpPorts = (opt('--tcp') ?? '').split(',').filter(Boolean).map(Number);
const udpPort = opt('--udp');

for (const port of tcpPorts) {
  createServer((sock) => {
    sock.on('error', () => {});
    sock.resume(); // discard what the client sends
    sock.end(`${name}\n`);
  })
    .listen({ port, host: '0.0.0.0', backlog: 4096 })
    .on('listening', () => process.stdout.write(`tcp ${port} ready\n`));
}

if (udpPort !== undefined) {
  const udp = createSocket('udp4');
  udp.on('message', (_msg, rinfo) => udp.send(`${name}\n`, rinfo.port, rinfo.address));
  udp.bind(Number(udpPort), '0.0.0.0', () => process.stdout.write(`udp ${udpPort} ready\n`));
}

process.on('SIGTERM', () => process.exit(0));
