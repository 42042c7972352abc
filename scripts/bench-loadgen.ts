// Benchmark: is svcbench's load generator the bottleneck? On the direct pod path, as `bench run`
// measures it (client pod cli-0 → the endpoint pods' IPs, no Service rules; --pods server pods,
// default 3 = bench run's default --endpoints), it compares, in one sandbox and in interleaved rounds:
//   - the http workload's client (keep-alive, one request in flight per connection, connection i
//     to pod i mod pods) with wrk on the same pods: one wrk process per pod, started together, with
//     that pod's share of the connections, their rates summed (wrk takes one URL);
//   - the connection-per-request clients with `wrk -H 'Connection: close'` (wrk then reconnects
//     after every response: one TCP connection per HTTP request, closed by the server): svcbench's
//     http-crr client on the same servers (apples to apples), and tcp-crr (connect, 64-byte
//     echo, RST close; a lighter transaction than HTTP, so its ratio says how the connection loop
//     itself compares).
// at each --connections count. The sandbox is opened as bench run opens a backend's (openPods in
// src/run/backend-sandbox.ts: the same pods plus its spare one, the ident server, every process in
// the run's cgroup). Processes are placed as bench run places them (src/run/pin.ts):
// http's servers, and its client and the keep-alive wrk, under the 'split' plan (load generator on
// the first CPU, servers on the others); http-crr and tcp-crr, and the Connection: close wrk, where
// the scheduler puts them.
// Rounds alternate the order of the tools, so on a loaded machine both see the same load.
// CPU: svcbench clients report their own measured-window CPU (process.resourceUsage); wrk runs
// under /usr/bin/time (its whole run, 10 ms resolution); the servers' CPU comes from /proc.
//
// Usage: node dist/scripts/bench-loadgen.js [--pods N] [--rounds N] [--duration-ms N] [--warmup-ms N]
//          [--connections 1,4] [--profile DIR] [--clients-from DIR] [--json]
//   --profile DIR: run the svcbench clients with node --cpu-prof, profiles written to DIR.
//   --clients-from DIR: run DIR/<workload>/client.js instead of this build's clients: DIR is a
//     compiled workloads/ folder of another version (a copy of dist/workloads with package.json
//     and node_modules reachable above it), to measure a client change against wrk in turn.
// Needs root (network namespaces). Figures go to stdout, progress to stderr.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RealExec, type Exec } from '../src/exec/index.js';
import { Interrupts, signalExitCode } from '../src/lifecycle.js';
import { AbortedError } from '../src/errors.js';
import { processCpuS } from '../src/run/cpu.js';
import { pinned, type CpuPlan } from '../src/run/pin.js';
import { openPods, type PodServers } from '../src/run/backend-sandbox.js';
import { endpointPods } from '../src/run/case.js';
import { closeSandbox } from '../src/sandbox/session.js';
import type { PodPlan } from '../src/sandbox/plan.js';
import { median } from '../src/stats/index.js';
import { http } from '../workloads/http/index.js';
import { httpCrr } from '../workloads/http-crr/index.js';
import { tcpCrr } from '../workloads/tcp-crr/index.js';
import type { Workload } from '../workloads/types.js';

const USAGE =
  'usage: bench-loadgen [--pods 1..16] [--rounds N≥1] [--duration-ms whole seconds] [--warmup-ms N] [--connections 1,4] [--profile DIR] [--clients-from DIR] [--json]\n';

interface Options {
  pods: number;
  rounds: number;
  durationMs: number;
  warmupMs: number;
  connections: number[];
  profileDir: string | undefined;
  clientsFrom: string | undefined;
  json: boolean;
}

/** The flags, checked; exits 2 with the usage line on a bad one. */
function parseOptions(): Options {
  const { values: flags } = parseArgs({
    options: {
      pods: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' },
      'duration-ms': { type: 'string', default: '3000' },
      'warmup-ms': { type: 'string', default: '500' },
      connections: { type: 'string', default: '1,4' },
      profile: { type: 'string' },
      'clients-from': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const o: Options = {
    pods: Number(flags.pods),
    rounds: Number(flags.rounds),
    durationMs: Number(flags['duration-ms']),
    warmupMs: Number(flags['warmup-ms']),
    connections: flags.connections!.split(',').map(Number),
    profileDir: flags.profile === undefined ? undefined : resolve(flags.profile),
    clientsFrom: flags['clients-from'] === undefined ? undefined : resolve(flags['clients-from']),
    json: flags.json!,
  };
  if (
    !(o.pods >= 1 && o.pods <= 16 && Number.isInteger(o.pods)) ||
    !(o.rounds >= 1) ||
    !(o.durationMs >= 1000) ||
    o.durationMs % 1000 !== 0 ||
    !(o.warmupMs >= 0) ||
    o.connections.some((c) => !(c >= 1))
  ) {
    process.stderr.write(USAGE);
    process.exit(2);
  }
  if (o.profileDir !== undefined) mkdirSync(o.profileDir, { recursive: true });
  for (const w of o.clientsFrom === undefined ? [] : ['http', 'http-crr', 'tcp-crr'])
    if (!existsSync(join(o.clientsFrom!, w, 'client.js'))) {
      process.stderr.write(`bench-loadgen: --clients-from: no ${join(o.clientsFrom!, w, 'client.js')}\n`);
      process.exit(2);
    }
  return o;
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const interrupts = new Interrupts(say);

/** One run of one tool: rate over its measured time, its CPU, the server's CPU, failures. */
interface Sample {
  opsPerS: number;
  /** Load generator CPU seconds per wall second of its measured run (1.0 = one core). */
  cores: number;
  cpuUsPerOp: number;
  serverCores: number;
  failures: number;
  /** Connections opened per operation: svcbench as its client counted them (measured time);
   * wrk as the server numbered them (x-conn-seq), over the whole run. */
  connsPerOp: number;
  load1: number;
}

type Tool = 'svcbench http' | 'wrk keep-alive' | 'svcbench http-crr' | 'svcbench tcp-crr' | 'wrk Connection: close';
const TOOLS: Tool[] = ['svcbench http', 'wrk keep-alive', 'svcbench http-crr', 'svcbench tcp-crr', 'wrk Connection: close'];

interface Job {
  tool: Tool;
  connections: number;
  run(): Promise<Omit<Sample, 'serverCores' | 'load1'> & { wallS: number }>;
}

/** The sandbox as bench run opens it and what every job runs against. `exec` is the sandbox's:
 * clients, wrk and probes join the run's cgroup as bench run's clients do. */
interface Bench {
  o: Options;
  exec: Exec;
  /** The endpoint pods, as bench run's pod path reaches them. */
  pods: PodPlan[];
  client: PodPlan;
  cpus: CpuPlan | undefined;
  serverCpu: () => number;
}

const WORKLOADS = [http, httpCrr, tcpCrr];

async function main(o: Options): Promise<void> {
  const exec = new RealExec();
  let env: PodServers | undefined;
  try {
    // Each pod runs http's server (8080: the http client and wrk keep-alive), http-crr's (8081: the
    // http-crr client and wrk Connection: close) and tcp-crr's, placed as bench run places them.
    env = await openPods(exec, { endpoints: o.pods, workloads: WORKLOADS, command: 'bench-loadgen', check: interrupts.check });
    const { sandbox, servers, cpus } = env;
    say(
      cpus === undefined
        ? 'placement: fewer than 2 CPUs, nothing pinned'
        : `placement: http load generators on CPU ${cpus.loadGenerator}, its servers on ${cpus.servers}`,
    );
    const serverPids = servers.map((s) => s.pid);
    const bench: Bench = {
      o,
      exec: sandbox.exec,
      pods: endpointPods(env, o.pods),
      client: sandbox.plan.pods.find((p) => p.kind === 'client')!,
      cpus,
      serverCpu: () => serverPids.reduce((a, p) => a + processCpuS(p), 0),
    };
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < o.rounds; round++) await runRound(bench, round, samples);
    report(o, samples);
  } finally {
    if (env) {
      const removed = await closeSandbox(exec, env.sandbox);
      say(`sandbox ${env.sandbox.plan.runId} removed (${removed.namespaces.length} namespaces)`);
    }
    interrupts.dispose();
  }
}

const key = (tool: Tool, c: number) => `${tool}|${c}`;

/** One round: every tool at every connection count. Pairs that are compared with each other run
 * back to back; the order alternates per round, so on a loaded machine both see the same load. */
async function runRound(b: Bench, round: number, samples: Map<string, Sample[]>): Promise<void> {
  let jobs: Job[] = [];
  for (const c of b.o.connections) {
    let ka = [svcbenchJob(b, 'svcbench http', http, c), wrkJob(b, 'wrk keep-alive', c, false)];
    let crr = [
      svcbenchJob(b, 'svcbench http-crr', httpCrr, c),
      wrkJob(b, 'wrk Connection: close', c, true),
      svcbenchJob(b, 'svcbench tcp-crr', tcpCrr, c),
    ];
    if (round % 2 === 1) {
      ka = ka.reverse();
      crr = crr.reverse();
    }
    jobs.push(...ka, ...crr);
  }
  if (round % 2 === 1) jobs = jobs.reverse();
  for (const job of jobs) {
    interrupts.check();
    const sample = await measure(b, job);
    const list = samples.get(key(job.tool, job.connections)) ?? [];
    list.push(sample);
    samples.set(key(job.tool, job.connections), list);
    say(
      `round ${round + 1}/${b.o.rounds} c=${job.connections} ${job.tool.padEnd(22)} ${sample.opsPerS.toFixed(0).padStart(7)}/s  ` +
        `client ${sample.cores.toFixed(2)} cores (${sample.cpuUsPerOp.toFixed(0)} µs/op)  server ${sample.serverCores.toFixed(2)} cores  ` +
        `conns/op ${sample.connsPerOp.toFixed(3)}  failures ${sample.failures}  load ${sample.load1.toFixed(2)}`,
    );
  }
}

/** Runs one job, with the servers' CPU and the load average around it. */
async function measure(b: Bench, job: Job): Promise<Sample> {
  const load1 = loadavg()[0]!;
  const srv0 = b.serverCpu();
  const r = await job.run();
  const srv1 = b.serverCpu();
  return {
    opsPerS: r.opsPerS,
    cores: r.cores,
    cpuUsPerOp: r.cpuUsPerOp,
    failures: r.failures,
    connsPerOp: r.connsPerOp,
    // The server's CPU over the tool's whole run (svcbench: warm-up included).
    serverCores: (srv1 - srv0) / (r.wallS + (job.tool.startsWith('svcbench') ? b.o.warmupMs / 1000 : 0)),
    load1,
  };
}

/** A svcbench workload client from the client pod to every endpoint pod (as bench run's pod path). */
function svcbenchJob(b: Bench, tool: Tool, w: Workload, c: number): Job {
  const { o } = b;
  const run = async () => {
    const argv = w.clientArgv({
      hosts: b.pods.map((s) => s.ip),
      port: w.serverPort,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      connections: c,
      messageSize: 64,
    });
    const prof =
      o.profileDir === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', o.profileDir, '--cpu-prof-name', `${w.name}-c${c}-${Date.now()}.cpuprofile`];
    const script = o.clientsFrom === undefined ? argv[1]! : join(o.clientsFrom, w.name, 'client.js');
    const r = await b.exec.run({
      netns: b.client.netns,
      argv: pinned(w, b.cpus, 'client', [argv[0]!, ...prof, script, ...argv.slice(2)]),
      timeoutMs: o.durationMs + o.warmupMs + 30_000,
    });
    const res = w.parseResult(r.stdout);
    const cpuS = (res.cpuUs.user + res.cpuUs.system) / 1e6;
    const s = res.durationMs / 1000;
    return {
      opsPerS: res.ops / s,
      cores: cpuS / s,
      cpuUsPerOp: res.ops === 0 ? NaN : (cpuS * 1e6) / res.ops,
      failures: res.errors + res.timeouts + res.non2xx,
      connsPerOp: res.ops === 0 ? NaN : res.connectionsOpened / res.ops,
      wallS: s,
    };
  };
  return { tool, connections: c, run };
}

// The http server numbers its connections (x-conn-seq): one request on a new connection before
// and after a wrk run tells how many connections wrk opened, so `Connection: close` is proven
// to mean one connection per request on the server's side too.
const connSeqProbe = (ip: string, port: number) => [
  process.execPath,
  '-e',
  `const s = require('node:net').connect(${port}, '${ip}', () => s.write('GET / HTTP/1.1\\r\\nHost: probe\\r\\nConnection: close\\r\\n\\r\\n'));
       let d = ''; s.on('data', (c) => (d += c)); s.on('end', () => console.log(/x-conn-seq: (\\d+)/i.exec(d)?.[1] ?? 'none'));`,
];

/** The sum over the pods of their servers' connection numbers on `port`. */
async function serverConnSeq(b: Bench, port: number): Promise<number> {
  let sum = 0;
  for (const srv of b.pods) {
    const out = (await b.exec.run({ netns: b.client.netns, argv: connSeqProbe(srv.ip, port), timeoutMs: 10_000 })).stdout.trim();
    if (!/^\d+$/.test(out)) throw new Error(`x-conn-seq probe of ${srv.ip}:${port} printed ${JSON.stringify(out)}`);
    sum += Number(out);
  }
  return sum;
}

/** wrk takes one URL: one process per pod, with the connections the svcbench client gives that
 * pod (connection i to pod i mod pods), all started together; rates and CPU summed. */
function wrkJob(b: Bench, tool: Tool, c: number, close: boolean): Job {
  const run = async () => {
    const w = close ? httpCrr : http;
    const shares = b.pods
      .map((srv, i) => ({ srv, conns: Math.floor(c / b.pods.length) + (i < c % b.pods.length ? 1 : 0) }))
      .filter((x) => x.conns > 0);
    const before = await serverConnSeq(b, w.serverPort);
    const runs = await Promise.all(shares.map(({ srv, conns }) => runWrk(b, w, srv, conns, close)));
    // Each pod's probe after the run is one connection of its own.
    const opened = (await serverConnSeq(b, w.serverPort)) - before - b.pods.length;
    const requests = runs.reduce((a, r) => a + r.wrk.requests, 0);
    const cpuS = runs.reduce((a, r) => a + r.time.cpuS, 0);
    const wallS = Math.max(...runs.map((r) => r.time.wallS));
    return {
      opsPerS: runs.reduce((a, r) => a + r.wrk.opsPerS, 0),
      failures: runs.reduce((a, r) => a + r.wrk.failures, 0),
      cores: cpuS / wallS,
      cpuUsPerOp: (cpuS * 1e6) / requests,
      connsPerOp: opened / requests,
      wallS,
    };
  };
  return { tool, connections: c, run };
}

/** One wrk against one pod, under /usr/bin/time for its CPU. */
async function runWrk(b: Bench, w: Workload, srv: PodPlan, conns: number, close: boolean) {
  const argv = ['/usr/bin/time', '-f', 'loadgen-cpu %U %S %e', 'wrk', '-t1', `-c${conns}`, `-d${b.o.durationMs / 1000}s`, '--latency'];
  if (close) argv.push('-H', 'Connection: close');
  argv.push(`http://${srv.ip}:${w.serverPort}/`);
  const r = await b.exec.run({ netns: b.client.netns, argv: pinned(w, b.cpus, 'client', argv), timeoutMs: b.o.durationMs + 30_000 });
  return { wrk: parseWrk(r.stdout), time: parseTime(r.stderr) };
}

/** Per tool and connection count: medians (and range) of the rounds' samples. */
function summaryRows(o: Options, samples: Map<string, Sample[]>): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const c of o.connections)
    for (const tool of TOOLS) {
      const xs = samples.get(key(tool, c)) ?? [];
      const med = (f: (s: Sample) => number) => median(xs.map(f));
      rows.push({
        connections: c,
        tool,
        runs: xs.length,
        opsPerS: med((s) => s.opsPerS),
        minOpsPerS: Math.min(...xs.map((s) => s.opsPerS)),
        maxOpsPerS: Math.max(...xs.map((s) => s.opsPerS)),
        clientCores: med((s) => s.cores),
        clientCpuUsPerOp: med((s) => s.cpuUsPerOp),
        serverCores: med((s) => s.serverCores),
        connsPerOp: med((s) => s.connsPerOp),
        failures: xs.reduce((a, s) => a + s.failures, 0),
        load1: med((s) => s.load1),
      });
    }
  return rows;
}

/** Ratios of medians, and the median of per-round ratios (pairs ran back to back in each round). */
function summaryRatios(o: Options, samples: Map<string, Sample[]>) {
  const med = (tool: Tool, c: number, f: (s: Sample) => number) => median((samples.get(key(tool, c)) ?? []).map(f));
  const pairs = [
    ['http / wrk keep-alive', 'svcbench http', 'wrk keep-alive'],
    ['http-crr / wrk Connection: close', 'svcbench http-crr', 'wrk Connection: close'],
    ['tcp-crr / wrk Connection: close', 'svcbench tcp-crr', 'wrk Connection: close'],
  ] as const;
  return o.connections.flatMap((c) =>
    pairs.map(([label, a, b]) => {
      const xa = samples.get(key(a, c)) ?? [];
      const xb = samples.get(key(b, c)) ?? [];
      return {
        connections: c,
        ratio: label,
        ofMedians: med(a, c, (s) => s.opsPerS) / med(b, c, (s) => s.opsPerS),
        medianPerRound: median(xa.map((s, i) => s.opsPerS / xb[i]!.opsPerS)),
        cpuPerOpRatio: med(a, c, (s) => s.cpuUsPerOp) / med(b, c, (s) => s.cpuUsPerOp),
      };
    }),
  );
}

/** Figures to stdout: one JSON line with --json, else two markdown tables. */
function report(o: Options, samples: Map<string, Sample[]>): void {
  const rows = summaryRows(o, samples);
  const ratios = summaryRatios(o, samples);
  if (o.json) {
    const { pods, rounds, durationMs, warmupMs, clientsFrom } = o;
    process.stdout.write(`${JSON.stringify({ pods, rounds, durationMs, warmupMs, clientsFrom: clientsFrom ?? null, rows, ratios })}\n`);
    return;
  }
  const f0 = (x: unknown) => (typeof x === 'number' ? x.toFixed(0) : String(x));
  const f2 = (x: unknown) => (typeof x === 'number' ? x.toFixed(2) : String(x));
  const out: string[] = [];
  const clients = o.clientsFrom === undefined ? '' : `, svcbench clients from ${o.clientsFrom}`;
  out.push(
    `## Pod path to ${o.pods} server pod${o.pods === 1 ? '' : 's'}, ${o.rounds} rounds × ${o.durationMs / 1000} s (svcbench: + ${o.warmupMs} ms warm-up${clients}), medians`,
    '',
  );
  out.push('| conns | tool | req or conn/s | min–max | client cores | client CPU µs/op | server cores | TCP conns/op | failures | load1 |');
  out.push('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows)
    out.push(
      `| ${r.connections} | ${r.tool} | ${f0(r.opsPerS)} | ${f0(r.minOpsPerS)}–${f0(r.maxOpsPerS)} | ${f2(r.clientCores)} | ${f0(r.clientCpuUsPerOp)} | ${f2(r.serverCores)} | ${(r.connsPerOp as number).toFixed(3)} | ${r.failures} | ${f2(r.load1)} |`,
    );
  out.push('', '| conns | ratio (svcbench / wrk) | of medians | median per round | CPU/op ratio |', '| ---: | --- | ---: | ---: | ---: |');
  for (const r of ratios)
    out.push(`| ${r.connections} | ${r.ratio} | ${f2(r.ofMedians)} | ${f2(r.medianPerRound)} | ${f2(r.cpuPerOpRatio)} |`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** wrk 4.1's summary: "Requests/sec: 12345.67", optional "Socket errors: connect 0, read 0,
 * write 0, timeout 0" and "Non-2xx or 3xx responses: N", and "N requests in 3.00s". */
function parseWrk(stdout: string): { opsPerS: number; failures: number; requests: number } {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(stdout);
  const reqs = /^\s*(\d+) requests in ([\d.]+)(ms|s|m)/m.exec(stdout);
  if (!rps || !reqs) throw new Error(`wrk output not understood:\n${stdout}`);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const failures = (errs ? errs.slice(1).reduce((a, x) => a + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { opsPerS: Number(rps[1]), failures, requests: Number(reqs[1]) };
}

/** GNU time's `-f 'loadgen-cpu %U %S %e'` line: user and system CPU seconds, wall seconds. */
function parseTime(stderr: string): { cpuS: number; wallS: number } {
  const t = /loadgen-cpu ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!t) throw new Error(`/usr/bin/time output missing:\n${stderr}`);
  return { cpuS: Number(t[1]) + Number(t[2]), wallS: Number(t[3]) };
}

try {
  await main(parseOptions());
} catch (e) {
  // A signal also reaches the running client or wrk (same process group), which may fail first.
  if (interrupts.received !== undefined) process.exit(signalExitCode(interrupts.received));
  if (e instanceof AbortedError) process.exit(signalExitCode(e.signal));
  say(`bench-loadgen: ${(e as Error).message}`);
  process.exit(1);
}
