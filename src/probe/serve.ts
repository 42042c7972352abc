#!/usr/bin/env node
// The conformance server that runs in each server pod: it answers every TCP connection and every
// UDP datagram with its pod's name, so a probe knows which endpoint a Service sent it to.
//
//   node serve.js --name srv-0 --tcp 8080[,8081…] [--udp 5353]
//
// A TCP answer on the first port also says what the server saw of the connection:
// "NAME PEER-ADDRESS TTL", the peer address as the server's socket has it (after any SNAT on the
// way) and the IP TTL the client's SYN arrived with (64 minus the routers it crossed). Node's
// sockets expose no received TTL (no IP_RECVTTL, no recvmsg control messages), so the server reads
// it from a raw IPPROTO_TCP socket (through koffi and libc): Linux hands raw sockets a copy of every
// TCP segment delivered locally (ip_local_deliver_finish → raw_local_deliver, before tcp_v4_rcv), so
// the SYN's copy is queued before accept() returns. A classic BPF filter (SO_ATTACH_FILTER) keeps
// only segments to that port, so workload traffic on other ports is never copied.

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
// Without CAP_NET_RAW (or koffi) the TTL is reported as unknown ('?'), the rest as usual.
const ttlOf = tcpPorts.length > 0 ? await ttlReader(tcpPorts[0]!).catch(() => () => undefined) : undefined;

for (const [i, port] of tcpPorts.entries()) {
  createServer((sock) => {
    sock.on('error', () => {});
    sock.resume(); // discard what the client sends
    const peer = sock.remoteAddress?.replace(/^::ffff:/, '') ?? '?';
    sock.end(ttlOf && i === 0 ? `${name} ${peer} ${ttlOf(peer, sock.remotePort ?? 0) ?? '?'}\n` : `${name}\n`);
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

/** A reader of the TTL each peer's segments to `port` arrived with (see the header). */
async function ttlReader(port: number): Promise<(peer: string, peerPort: number) => number | undefined> {
  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  const socket = libc.func('int socket(int, int, int)');
  const Filter = koffi.struct('sock_filter', { code: 'uint16', jt: 'uint8', jf: 'uint8', k: 'uint32' });
  const Fprog = koffi.struct('sock_fprog', { len: 'uint16', filter: koffi.pointer(Filter) });
  const setsockopt = libc.func('int setsockopt(int, int, int, const sock_fprog *, uint32_t)');
  const recv = libc.func('long recv(int, _Out_ uint8_t *, size_t, int)');
  const AF_INET = 2;
  const SOCK_RAW = 3;
  const IPPROTO_TCP = 6;
  const SOL_SOCKET = 1;
  const SO_ATTACH_FILTER = 26;
  const MSG_DONTWAIT = 0x40;
  const fd = socket(AF_INET, SOCK_RAW, IPPROTO_TCP) as number;
  if (fd < 0) throw new Error(`raw socket: errno ${koffi.errno()}`);
  // x = IP header length; A = TCP destination port; keep the segment when it is `port`.
  const prog = [
    { code: 0xb1, jt: 0, jf: 0, k: 0 }, // ldxb 4*([0]&0xf)
    { code: 0x48, jt: 0, jf: 0, k: 2 }, // ldh [x+2]
    { code: 0x15, jt: 0, jf: 1, k: port }, // jeq #port
    { code: 0x06, jt: 0, jf: 0, k: 0xffff }, // ret #0xffff
    { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret #0
  ];
  if ((setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: prog.length, filter: prog }, koffi.sizeof(Fprog)) as number) !== 0)
    throw new Error(`SO_ATTACH_FILTER: errno ${koffi.errno()}`);
  const seen = new Map<string, number>();
  const buf = Buffer.alloc(128);
  const drain = () => {
    for (;;) {
      const n = Number(recv(fd, buf, buf.length, MSG_DONTWAIT));
      if (n < 24) return;
      const ihl = (buf[0]! & 0xf) * 4;
      const key = `${buf[12]}.${buf[13]}.${buf[14]}.${buf[15]}:${buf.readUInt16BE(ihl)}`;
      seen.delete(key);
      seen.set(key, buf[8]!);
      // Keep the most recent peers only: a long run would otherwise grow the map without bound.
      if (seen.size > 4096) seen.delete(seen.keys().next().value!);
    }
  };
  return (peer, peerPort) => {
    drain();
    return seen.get(`${peer}:${peerPort}`);
  };
}
