#!/usr/bin/env node
// A small TCP/UDP prober that runs inside a namespace (through the exec port) and reports, per
// target, whether a connection was made and what the server answered. One process probes many
// targets, so checking every pair of 50 pods takes 50 processes, not 2,500.
//
//   node connect.js [--timeout MS] [--udp] [--connect-only] [--send TEXT] HOST:PORT...
// prints one JSON line per target: {"target","ok","reply"?,"error"?,"ms"}
//   node connect.js [--timeout MS] --batch  < one JSON request per line: {"target","udp"?,"timeoutMs"?}
// the same, each target with its own protocol and timeout (the checks of one namespace in one
// process: under an emulated guest kernel a Node process takes a second or more to start)
//   node connect.js --poll DEADLINE_MS HOST:PORT
// starts a new connection every millisecond, overlapping, until one is answered, and prints one
// PollResult line (poll.ts): when the earliest answered attempt's SYN had left, on the machine's
// monotonic clock (network-programming latency: the caller compares it with the time its sync
// started). SIGTERM stops it early; it still prints what it found.

import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { parseReply, PROBE_TIMEOUT_MS, type ProbeRequest, type ProbeResult } from './reply.js';
import { pollFirstAnswer } from './poll.js';

export type { ProbeRequest, ProbeResult } from './reply.js';

function probeTcp(host: string, port: number, send: string, timeoutMs: number, connectOnly = false): Promise<Omit<ProbeResult, 'target'>> {
  const started = performance.now();
  return new Promise((resolve) => {
    let reply = '';
    let done = false;
    const finish = (r: Omit<ProbeResult, 'target' | 'ms'>) => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve({ ...r, ms: performance.now() - started });
    };
    const sock = connect({ host, port });
    sock.setTimeout(timeoutMs, () => finish({ ok: false, error: reply ? 'timeout after partial reply' : 'timeout' }));
    // Write without half-closing: a server that answers and closes (socat EXEC) may otherwise
    // see our FIN first and close before its answer is read.
    sock.on('connect', () => (connectOnly ? finish({ ok: true }) : sock.write(send)));
    sock.on('data', (d) => (reply += d.toString()));
    sock.on('end', () => finish({ ok: true, ...parseReply(reply.trim()) }));
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
  });
}

function probeUdp(host: string, port: number, send: string, timeoutMs: number): Promise<Omit<ProbeResult, 'target'>> {
  const started = performance.now();
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => finish({ ok: false, error: 'timeout' }), timeoutMs);
    let done = false;
    function finish(r: Omit<ProbeResult, 'target' | 'ms'>) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve({ ...r, ms: performance.now() - started });
    }
    sock.on('message', (m) => finish({ ok: true, reply: m.toString().trim() }));
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
    sock.send(send, port, host);
  });
}

async function readRequests(): Promise<ProbeRequest[]> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ProbeRequest);
}

async function main(argv: string[]): Promise<void> {
  let timeoutMs = PROBE_TIMEOUT_MS;
  let send = 'probe\n';
  let udp = false;
  let pollMs: number | undefined;
  let connectOnly = false;
  let batch = false;
  const targets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--timeout') timeoutMs = Number(argv[++i]);
    else if (a === '--send') send = `${argv[++i]}\n`;
    else if (a === '--udp') udp = true;
    else if (a === '--poll') pollMs = Number(argv[++i]);
    else if (a === '--connect-only') connectOnly = true;
    else if (a === '--batch') batch = true;
    else targets.push(a);
  }
  if (pollMs !== undefined) {
    const t = targets[0]!;
    const at = t.lastIndexOf(':');
    const stop = new AbortController();
    process.once('SIGTERM', () => stop.abort());
    const r = await pollFirstAnswer(t.slice(0, at), Number(t.slice(at + 1)), { deadlineMs: pollMs, signal: stop.signal });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  }
  const requests: ProbeRequest[] = batch ? await readRequests() : targets.map((target) => ({ target }));
  // Probe concurrently, a bounded number at a time, and print in the order given.
  const results: ProbeResult[] = new Array(requests.length);
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const i = next++;
      const q = requests[i]!;
      const t = q.target;
      const at = t.lastIndexOf(':');
      const host = t.slice(0, at);
      const port = Number(t.slice(at + 1));
      const ms = q.timeoutMs ?? timeoutMs;
      const r = (q.udp ?? udp) ? await probeUdp(host, port, send, ms) : await probeTcp(host, port, send, ms, connectOnly);
      results[i] = { target: t, ...r };
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, requests.length) }, worker));
  process.stdout.write(results.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

await main(process.argv.slice(2));
