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
// at each --connections count. Processes are placed as bench run places them (src/run/pin.ts):
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
import { sandboxSchema } from '../src/config/sandbox.js';
import { RealExec, type Started } from '../src/exec/index.js';
import { Interrupts, signalExitCode } from '../src/lifecycle.js';
import { AbortedError } from '../src/errors.js';
import { waitListening } from '../src/probe/client.js';
import { processCpuS } from '../src/run/cpu.js';
import { cpuPlan, pinned } from '../src/run/pin.js';
import { closeSandbox, openSandbox, type Sandbox } from '../src/sandbox/session.js';
import { processStartTime } from '../src/sandbox/state.js';
import { median } from '../src/stats/index.js';
import { http } from '../workloads/http/index.js';
import { httpCrr } from '../workloads/http-crr/index.js';
import { tcpCrr } from '../workloads/tcp-crr/index.js';
import type { Workload } from '../workloads/types.js';

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
const PODS = Number(flags.pods);
const ROUNDS = Number(flags.rounds);
const DURATION_MS = Number(flags['duration-ms']);
const WARMUP_MS = Number(flags['warmup-ms']);
const CONNS = flags.connections!.split(',').map(Number);
if (
  !(PODS >= 1 && PODS <= 16 && Number.isInteger(PODS)) ||
  !(ROUNDS >= 1) ||
  !(DURATION_MS >= 1000) ||
  DURATION_MS % 1000 !== 0 ||
  !(WARMUP_MS >= 0) ||
  CONNS.some((c) => !(c >= 1))
) {
  process.stderr.write(
    'usage: bench-loadgen [--pods 1..16] [--rounds N≥1] [--duration-ms whole seconds] [--warmup-ms N] [--connections 1,4] [--profile DIR] [--clients-from DIR] [--json]\n',
  );
  process.exit(2);
}
const PROFILE_DIR = flags.profile === undefined ? undefined : resolve(flags.profile);
if (PROFILE_DIR !== undefined) mkdirSync(PROFILE_DIR, { recursive: true });
const CLIENTS_FROM = flags['clients-from'] === undefined ? undefined : resolve(flags['clients-from']);
if (CLIENTS_FROM !== undefined) {
  for (const w of ['http', 'http-crr', 'tcp-crr'])
    if (!existsSync(join(CLIENTS_FROM, w, 'client.js'))) {
      process.stderr.write(`bench-loadgen: --clients-from: no ${join(CLIENTS_FROM, w, 'client.js')}\n`);
      process.exit(2);
    }
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const exec = new RealExec();
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

interface Job {
  tool: Tool;
  connections: number;
  run(): Promise<Omit<Sample, 'serverCores' | 'load1'> & { wallS: number }>;
}

async function main(): Promise<void> {
  const cfg = sandboxSchema.parse({ pods: PODS, clients: 1 });
  let sb: Sandbox | undefined;
  const servers: Started[] = [];
  try {
    sb = await openSandbox(exec, cfg, { command: 'bench-loadgen', check: interrupts.check });
    const srvs = sb.plan.pods.filter((p) => p.kind === 'server');
    const cli = sb.plan.pods.find((p) => p.kind === 'client')!;
    const plan = cpuPlan();
    say(
      plan === undefined
        ? 'placement: fewer than 2 CPUs, nothing pinned'
        : `placement: http load generators on CPU ${plan.loadGenerator}, its servers on ${plan.servers}`,
    );
    // Each pod runs http's server (8080: the http client and wrk keep-alive), http-crr's (8081: the
    // http-crr client and wrk Connection: close) and tcp-crr's, placed as bench run places them.
    for (const srv of srvs)
      for (const w of [http, httpCrr, tcpCrr])
        servers.push(exec.start({ netns: srv.netns, argv: pinned(w, plan, 'server', w.serverArgv(srv.role)) }));
    await sb.state?.record(servers.map((s) => ({ kind: 'process' as const, pid: s.pid, startTime: processStartTime(s.pid) ?? '' })));
    await waitListening(
      exec,
      cli.netns,
      srvs.flatMap((srv) => [http, httpCrr, tcpCrr].map((w) => `${srv.ip}:${w.serverPort}`)),
    );
    const serverPids = servers.map((s) => s.pid);
    const serverCpu = () => serverPids.reduce((a, p) => a + processCpuS(p), 0);

    const svcbench = (tool: Tool, w: Workload, c: number): Job => ({
      tool,
      connections: c,
      run: async () => {
        const argv = w.clientArgv({
          hosts: srvs.map((s) => s.ip),
          port: w.serverPort,
          durationMs: DURATION_MS,
          warmupMs: WARMUP_MS,
          connections: c,
          messageSize: 64,
        });
        const prof =
          PROFILE_DIR === undefined
            ? []
            : ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${w.name}-c${c}-${Date.now()}.cpuprofile`];
        const script = CLIENTS_FROM === undefined ? argv[1]! : join(CLIENTS_FROM, w.name, 'client.js');
        const r = await exec.run({
          netns: cli.netns,
          argv: pinned(w, plan, 'client', [argv[0]!, ...prof, script, ...argv.slice(2)]),
          timeoutMs: DURATION_MS + WARMUP_MS + 30_000,
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
      },
    });
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
    const serverConnSeq = async (port: number) => {
      let sum = 0;
      for (const srv of srvs) {
        const out = (await exec.run({ netns: cli.netns, argv: connSeqProbe(srv.ip, port), timeoutMs: 10_000 })).stdout.trim();
        if (!/^\d+$/.test(out)) throw new Error(`x-conn-seq probe of ${srv.ip}:${port} printed ${JSON.stringify(out)}`);
        sum += Number(out);
      }
      return sum;
    };
    // wrk takes one URL: one process per pod, with the connections the svcbench client gives that
    // pod (connection i to pod i mod pods), all started together; rates and CPU summed.
    const wrk = (tool: Tool, c: number, close: boolean): Job => ({
      tool,
      connections: c,
      run: async () => {
        const w = close ? httpCrr : http;
        const shares = srvs
          .map((srv, i) => ({ srv, conns: Math.floor(c / srvs.length) + (i < c % srvs.length ? 1 : 0) }))
          .filter((x) => x.conns > 0);
        const before = await serverConnSeq(w.serverPort);
        const runs = await Promise.all(
          shares.map(async ({ srv, conns }) => {
            const argv = [
              '/usr/bin/time',
              '-f',
              'loadgen-cpu %U %S %e',
              'wrk',
              '-t1',
              `-c${conns}`,
              `-d${DURATION_MS / 1000}s`,
              '--latency',
            ];
            if (close) argv.push('-H', 'Connection: close');
            argv.push(`http://${srv.ip}:${w.serverPort}/`);
            const r = await exec.run({ netns: cli.netns, argv: pinned(w, plan, 'client', argv), timeoutMs: DURATION_MS + 30_000 });
            return { wrk: parseWrk(r.stdout), time: parseTime(r.stderr) };
          }),
        );
        // Each pod's probe after the run is one connection of its own.
        const opened = (await serverConnSeq(w.serverPort)) - before - srvs.length;
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
      },
    });

    const samples = new Map<string, Sample[]>();
    const key = (tool: Tool, c: number) => `${tool}|${c}`;
    for (let round = 0; round < ROUNDS; round++) {
      // Pairs that are compared with each other run back to back; the order alternates per round.
      let jobs: Job[] = [];
      for (const c of CONNS) {
        let ka = [svcbench('svcbench http', http, c), wrk('wrk keep-alive', c, false)];
        let crr = [
          svcbench('svcbench http-crr', httpCrr, c),
          wrk('wrk Connection: close', c, true),
          svcbench('svcbench tcp-crr', tcpCrr, c),
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
        const load1 = loadavg()[0]!;
        const srv0 = serverCpu();
        const r = await job.run();
        const srv1 = serverCpu();
        const sample: Sample = {
          opsPerS: r.opsPerS,
          cores: r.cores,
          cpuUsPerOp: r.cpuUsPerOp,
          failures: r.failures,
          connsPerOp: r.connsPerOp,
          // The server's CPU over the tool's whole run (svcbench: warm-up included).
          serverCores: (srv1 - srv0) / (r.wallS + (job.tool.startsWith('svcbench') ? WARMUP_MS / 1000 : 0)),
          load1,
        };
        const list = samples.get(key(job.tool, job.connections)) ?? [];
        list.push(sample);
        samples.set(key(job.tool, job.connections), list);
        say(
          `round ${round + 1}/${ROUNDS} c=${job.connections} ${job.tool.padEnd(22)} ${sample.opsPerS.toFixed(0).padStart(7)}/s  ` +
            `client ${sample.cores.toFixed(2)} cores (${sample.cpuUsPerOp.toFixed(0)} µs/op)  server ${sample.serverCores.toFixed(2)} cores  ` +
            `conns/op ${sample.connsPerOp.toFixed(3)}  failures ${sample.failures}  load ${load1.toFixed(2)}`,
        );
      }
    }
    report(samples, key);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    if (sb) {
      const removed = await closeSandbox(exec, sb);
      say(`sandbox ${sb.plan.runId} removed (${removed.namespaces.length} namespaces)`);
    }
    interrupts.dispose();
  }
}

function report(samples: Map<string, Sample[]>, key: (t: Tool, c: number) => string): void {
  const med = (tool: Tool, c: number, f: (s: Sample) => number) => median((samples.get(key(tool, c)) ?? []).map(f));
  const rows: Record<string, unknown>[] = [];
  const tools: Tool[] = ['svcbench http', 'wrk keep-alive', 'svcbench http-crr', 'svcbench tcp-crr', 'wrk Connection: close'];
  for (const c of CONNS)
    for (const tool of tools) {
      const xs = samples.get(key(tool, c)) ?? [];
      rows.push({
        connections: c,
        tool,
        runs: xs.length,
        opsPerS: med(tool, c, (s) => s.opsPerS),
        minOpsPerS: Math.min(...xs.map((s) => s.opsPerS)),
        maxOpsPerS: Math.max(...xs.map((s) => s.opsPerS)),
        clientCores: med(tool, c, (s) => s.cores),
        clientCpuUsPerOp: med(tool, c, (s) => s.cpuUsPerOp),
        serverCores: med(tool, c, (s) => s.serverCores),
        connsPerOp: med(tool, c, (s) => s.connsPerOp),
        failures: xs.reduce((a, s) => a + s.failures, 0),
        load1: med(tool, c, (s) => s.load1),
      });
    }
  // Ratios of medians, and the median of per-round ratios (pairs ran back to back in each round).
  const ratios = CONNS.flatMap((c) =>
    (
      [
        ['http / wrk keep-alive', 'svcbench http', 'wrk keep-alive'],
        ['http-crr / wrk Connection: close', 'svcbench http-crr', 'wrk Connection: close'],
        ['tcp-crr / wrk Connection: close', 'svcbench tcp-crr', 'wrk Connection: close'],
      ] as const
    ).map(([label, a, b]) => {
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
  if (flags.json) {
    const json = {
      pods: PODS,
      rounds: ROUNDS,
      durationMs: DURATION_MS,
      warmupMs: WARMUP_MS,
      clientsFrom: CLIENTS_FROM ?? null,
      rows,
      ratios,
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
    return;
  }
  const f0 = (x: unknown) => (typeof x === 'number' ? x.toFixed(0) : String(x));
  const f2 = (x: unknown) => (typeof x === 'number' ? x.toFixed(2) : String(x));
  const out: string[] = [];
  const clients = CLIENTS_FROM === undefined ? '' : `, svcbench clients from ${CLIENTS_FROM}`;
  out.push(
    `## Pod path to ${PODS} server pod${PODS === 1 ? '' : 's'}, ${ROUNDS} rounds × ${DURATION_MS / 1000} s (svcbench: + ${WARMUP_MS} ms warm-up${clients}), medians`,
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
  await main();
} catch (e) {
  // A signal also reaches the running client or wrk (same process group), which may fail first.
  if (interrupts.received !== undefined) process.exit(signalExitCode(interrupts.received));
  if (e instanceof AbortedError) process.exit(signalExitCode(e.signal));
  say(`bench-loadgen: ${(e as Error).message}`);
  process.exit(1);
}
