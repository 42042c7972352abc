// Test harness that runs INSIDE a throwaway network namespace (`unshare --net node netns-run.js
// SPEC`): brings its loopback up, starts a workload server, waits until the port is bound, runs the
// client once, prints the client's stdout, stops the server. SPEC is JSON:
//   { "server"?: argv, "client": argv, "protocol": "TCP"|"UDP", "port": number, "callerNetns": string,
//     "countTo"?: [address, …] }
// countTo: counts, with nftables counters on the input hook, what reached each address on the port
// (TCP: connection attempts, i.e. SYNs; UDP: datagrams) and prints them to stderr after the client,
// as `netns-run counts: {"address": n, …}`: how a client spread its load over several hosts
// (every 127.x.y.z is local on lo, so one server on 0.0.0.0 answers them all).
// callerNetns is the caller's readlink(/proc/self/ns/net) ("net:[4026531840]"): the harness refuses
// to run in that namespace, so it can never touch the caller's (the host's) network. (PID 1's
// namespace link is not readable in every sandbox, the caller's always is.)

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

interface Spec {
  server?: string[];
  client: string[];
  protocol: 'TCP' | 'UDP';
  port: number;
  callerNetns: string;
  countTo?: string[];
}

function fail(message: string): never {
  process.stderr.write(`netns-run: ${message}\n`);
  process.exit(3);
}

const spec = JSON.parse(process.argv[2] ?? 'null') as Spec | null;
if (spec === null || !Array.isArray(spec.client) || typeof spec.callerNetns !== 'string') fail('usage: netns-run.js SPEC-JSON');
if (readlinkSync('/proc/self/ns/net') === spec.callerNetns) {
  fail(`refusing to run in the caller's network namespace ${spec.callerNetns}; start me with \`unshare --net\``);
}

execFileSync('ip', ['link', 'set', 'lo', 'up']);

const countTo = spec.countTo ?? [];
if (countTo.length > 0) {
  const match = spec.protocol === 'TCP' ? `tcp dport ${spec.port} tcp flags & (syn | ack) == syn` : `udp dport ${spec.port}`;
  execFileSync('nft', ['-f', '-'], {
    input: [
      'table ip netns_run {',
      ...countTo.map((_, i) => `  counter to${i} { }`),
      '  chain input {',
      '    type filter hook input priority 0; policy accept;',
      ...countTo.map((addr, i) => `    ip daddr ${addr} ${match} counter name to${i}`),
      '  }',
      '}',
    ].join('\n'),
  });
}

/** Packets counted per countTo address (nft's JSON listing of the named counters). */
function counts(): Record<string, number> {
  const listing = JSON.parse(execFileSync('nft', ['-j', 'list', 'counters', 'table', 'ip', 'netns_run'], { encoding: 'utf8' })) as {
    nftables: Array<{ counter?: { name: string; packets: number } }>;
  };
  const byName = new Map(listing.nftables.flatMap((e) => (e.counter === undefined ? [] : [[e.counter.name, e.counter.packets] as const])));
  return Object.fromEntries(countTo.map((addr, i) => [addr, byName.get(`to${i}`) ?? 0]));
}

/** Is something bound to the port in this namespace? /proc/net/{tcp,udp}: local address
 * "0100007F:1B59"; TCP state 0A is LISTEN (include/net/tcp_states.h), UDP sockets show 07. */
function bound(protocol: 'TCP' | 'UDP', port: number): boolean {
  const file = protocol === 'TCP' ? '/proc/net/tcp' : '/proc/net/udp';
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hexPort}`) === true && (protocol === 'UDP' || f[3] === '0A');
    });
}

const [serverCmd, ...serverArgs] = spec.server ?? [];
// Own process group, so the socat children forked per connection stop with it.
const server =
  serverCmd === undefined ? undefined : spawn(serverCmd, serverArgs, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
let serverExited = false;
server?.on('exit', () => (serverExited = true));

if (server !== undefined) {
  const deadline = Date.now() + 5000;
  while (!bound(spec.protocol, spec.port)) {
    if (serverExited) fail('the server exited before binding its port');
    if (Date.now() > deadline) fail(`nothing bound ${spec.protocol} port ${spec.port} within 5 s`);
    await sleep(20);
  }
}

const [clientCmd, ...clientArgs] = spec.client;
const client = spawn(clientCmd!, clientArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
client.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
const code: number = await new Promise((resolve) => client.on('close', (c) => resolve(c ?? 1)));
process.stdout.write(out);
if (countTo.length > 0) process.stderr.write(`netns-run counts: ${JSON.stringify(counts())}\n`);

if (server?.pid !== undefined && !serverExited) {
  process.kill(-server.pid, 'SIGTERM');
  const deadline = Date.now() + 2000;
  while (!serverExited && Date.now() < deadline) await sleep(20);
  if (!serverExited) {
    process.stderr.write('netns-run: server ignored SIGTERM, killing it\n');
    process.kill(-server.pid, 'SIGKILL');
  }
}
process.exit(code);
