import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { allowedCpus, cpuPlan } from '../../src/run/pin.js';
import { summarizeRun } from '../../src/run/summary.js';
import { BENCH, bench, isRoot, leavesNothingBehind, ourNamespaces, preflightVerdict, processesMentioning, stateFiles } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
import { readRunJson, shortIn } from './run-helpers.js';

// `bench run` end to end in real namespaces, with short cases.

// Every test writes under its own directory: the concurrent ones must not read each other's
// results/latest.
const outDir = tempDirs('svcbench-run-');

/** Starts a run in its own process group and calls `onCase(k)` after the k-th case has finished
 * (progress lines "  → …"); `kill` signals the whole group, as Ctrl-C at a terminal does, so the
 * load generators and servers get the signal too. */
async function runWatching(args: string[], onCase: (k: number, kill: (sig: NodeJS.Signals) => void) => void) {
  const child = execa(process.execPath, [BENCH, 'run', ...args], { reject: false, stdin: 'ignore', detached: true });
  let k = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('  → ')) onCase(++k, (s) => process.kill(-child.pid!, s));
  });
  const r = await child;
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

// Runs take a minute or more on a loaded 2-core machine (the report step included).
describe.runIf(isRoot)('bench run', { timeout: 300_000 }, () => {
  leavesNothingBehind({ stateFiles: true });

  // The first three tests run concurrently (each its own sandbox, run id and output directory, no
  // global state asserted while they run; at most the e2e project's maxConcurrency); the rest look
  // at all of this file's processes or namespaces, or kill its servers by name, and run one at a time
  // after them.
  it.concurrent('measures every path and records everything in run.json; an unavailable backend is skipped', async () => {
    const out = outDir();
    // IPVS is unavailable on a kernel without IP_VS and measured on one with it: preflight decides.
    const ipvsVerdict = await preflightVerdict('ipvs');
    const r = await bench(
      [
        'run',
        '--backend',
        'nft,ipvs',
        '--path',
        'pod,clusterip,clusterip-node,nodeport,hairpin',
        '--workload',
        'http-crr,tcp-rr,udp-rr',
        '--services',
        '20',
        // One repetition: this test checks that every path × workload is measured and recorded;
        // several repetitions have their own tests below (paired blocks, adaptive repetitions).
        '--repeat',
        '1',
        // Exactly --repeat repetitions: the counts below are exact.
        '--ci-target',
        '0',
        '--json',
        ...shortIn(out),
      ],
      // From outside the checkout: the commit recorded is svcbench's own, not the working directory's.
      { timeoutMs: 300_000, cwd: tmpdir() },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const { dir } = JSON.parse(r.stdout) as { dir: string };
    const run = readRunJson(dir);
    expect(run.state).toBe('completed');
    expect(run.environment.kernel).toMatch(/^\d+\.\d+/);
    expect(run.environment.commit).toBe(execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim());
    expect(run.backends.map((b) => [b.name, b.state])).toEqual([
      ['nft (1.37)', 'ready'],
      ['ipvs', ipvsVerdict.state],
    ]);
    const nft = run.cases.filter((c) => c.backend === 'nft (1.37)');
    expect(nft).toHaveLength(5 * 3);
    expect(nft.filter((c) => c.state !== 'completed').map((c) => ('reason' in c ? c.reason : ''))).toEqual([]);
    for (const c of nft) {
      if (c.state !== 'completed') continue;
      expect(c.result.ops).toBeGreaterThan(0);
      expect(c.result.latencyUs.p50).toBeGreaterThan(0);
      // The path check before measuring: the pod path reaches each endpoint pod by its own IP,
      // service paths one endpoint.
      if (c.path === 'pod') expect(c.checkedBy).toBe('srv-0,srv-1,srv-2');
      else expect(['srv-0', 'srv-1', 'srv-2']).toContain(c.checkedBy);
      if (c.workload === 'http-crr') expect(c.result.connectionsOpened - c.result.ops).toBeGreaterThanOrEqual(0);
      // The pod path spreads its connections over the same endpoint pods as the Service.
      if (c.path === 'pod' && c.workload === 'http-crr')
        expect(Object.keys(c.result.answeredBy ?? {}).sort()).toEqual(['srv-0', 'srv-1', 'srv-2']);
      expect(c.cpu.kernelS).toBeGreaterThanOrEqual(0);
    }
    const ipvs = run.cases.filter((c) => c.backend === 'ipvs');
    expect(ipvs.length).toBe(15);
    if (ipvsVerdict.state === 'unavailable')
      expect(ipvs.filter((c) => !(c.state === 'skipped' && c.reason.includes(ipvsVerdict.reason!)))).toEqual([]);
    else expect(ipvs.filter((c) => c.state === 'skipped')).toEqual([]);
    expect(run.syncs.filter((s) => s.backend === 'nft (1.37)').map((s) => s.step)).toEqual([
      'full',
      'add-service',
      'add-endpoint',
      'remove-service',
    ]);
    expect(run.syncs.every((s) => s.readBackDifferences.length === 0)).toBe(true);
    expect(run.programmingLatency[0]!.ms).toBeGreaterThan(0);
    expect(run.syncBench[0]!.samples).toHaveLength(2);
    expect(readFileSync(join(out, 'latest', 'run.json'), 'utf8')).toBe(readFileSync(join(dir, 'run.json'), 'utf8'));
  });

  it.concurrent(
    'paired blocks: the paths of a repetition run as alternating blocks, recorded per case, and "vs pod" is the ratio over block pairs',
    async () => {
      const out = outDir();
      const r = await bench(
        [
          'run',
          '--backend',
          'nft',
          '--path',
          'pod,clusterip,nodeport',
          '--workload',
          'tcp-crr',
          '--services',
          '10',
          '--repeat',
          '2',
          '--ci-target',
          '0',
          '--sync-iterations',
          '0',
          '--duration',
          '1',
          '--block',
          '0.25',
          '--out',
          out,
        ],
        { timeoutMs: 300_000 },
      );
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/nft pod\/clusterip\/nodeport tcp-crr @10 services, repetition 1 \(paired blocks\)|paired blocks/);
      const run = readRunJson(join(out, 'latest'));
      expect(run.cases.map((c) => c.state)).toEqual(Array(6).fill('completed'));
      for (const c of run.cases) {
        if (c.state !== 'completed') continue;
        // 1 s in 0.25 s blocks: 4 rounds, one block per path each.
        expect(c.result.blocks?.length, c.id).toBe(4);
        for (const b of c.result.blocks ?? []) expect(b.plannedMs).toBe(250);
      }
      const groups = summarizeRun(run);
      for (const path of ['clusterip', 'nodeport']) {
        const g = groups.find((x) => x.path === path)!;
        // 2 repetitions × 4 rounds: up to 8 pairs (a block that ran under half its length drops).
        expect(g.metrics.throughput!.paired, path).toBeDefined();
        expect(g.metrics.throughput!.paired!.pairs).toBeGreaterThanOrEqual(6);
        // Its interval is over the 2 repetitions (stats/paired.ts).
        expect(g.metrics.throughput!.paired!.groups).toBe(2);
        expect(g.metrics.throughput!.vsPod, path).toBeDefined();
      }
      // The table shows the paired ratio, and the verdicts close stdout.
      expect(r.stdout).toMatch(
        /nft \(1\.37\), 10 services, tcp-crr: ClusterIP throughput [\d.]+× \[[\d.]+, [\d.]+\] of the pod IPs \(paired/,
      );
    },
  );

  it('round-trip workloads run their servers on the shared CPU, http its servers off the load generator CPU (clients: case.ts), the others are not pinned', async () => {
    const out = outDir();
    const short = shortIn(out);
    const plan = cpuPlan();
    const affinity: Record<string, string[]> = {};
    const r = await runWatching(
      [
        '--backend',
        'nft',
        '--path',
        'pod',
        '--workload',
        'tcp-rr,tcp-crr,http',
        '--services',
        '10',
        '--repeat',
        '2',
        '--ci-target',
        '0',
        ...short,
      ],
      (k) => {
        if (k !== 1) return;
        // The servers of this run live until its end: their CPU affinity (taskset -p).
        for (const [w, text] of [
          ['tcp-rr', 'TCP4-LISTEN:7001'],
          ['tcp-crr', 'tcp-crr/server.js'],
          ['http', 'http/server.js'],
        ] as const)
          affinity[w] = processesMentioning(text).map(
            (pid) => /list: (\S+)/.exec(execSync(`taskset -cp ${pid}`, { encoding: 'utf8' }))![1]!,
          );
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    // srv-0..2 and the spare pod each run one server per workload.
    expect(affinity['tcp-rr']!.length).toBeGreaterThanOrEqual(4);
    expect(affinity['tcp-crr']!.length).toBeGreaterThanOrEqual(4);
    expect(affinity['http']!.length).toBeGreaterThanOrEqual(4);
    expect(plan, 'this test needs 2 or more CPUs').toBeDefined();
    expect(affinity['tcp-rr']!.every((list) => list === String(plan!.shared))).toBe(true);
    // taskset -cp prints ranges ("1-3") where taskset -c was given "1,2,3": compare as CPU sets.
    const cpusOf = (list: string) => allowedCpus(`Cpus_allowed_list:\t${list}\n`);
    expect(affinity['http']!.map(cpusOf)).toEqual(affinity['http']!.map(() => cpusOf(plan!.servers)));
    expect(affinity['http']!.every((list) => !cpusOf(list).includes(plan!.loadGenerator))).toBe(true);
    const all = readFileSync('/proc/self/status', 'utf8');
    expect(affinity['tcp-crr']!.every((list) => cpusOf(list).length === allowedCpus(all).length)).toBe(true);
    const env = readRunJson(join(out, 'latest')).environment;
    expect([env.sharedCpu, env.loadGeneratorCpu, env.serverCpus]).toEqual([plan!.shared, plan!.loadGenerator, plan!.servers]);
  });

  it('SIGINT to the process group in the middle keeps the completed cases in run.json and tears everything down', async () => {
    const out = outDir();
    const short = shortIn(out);
    let sent = false;
    const r = await runWatching(
      ['--backend', 'nft', '--path', 'pod,clusterip', '--workload', 'tcp-rr', '--services', '10', '--repeat', '5', ...short],
      (k, kill) => {
        if (k === 3 && !sent) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.exitCode, r.stderr).toBe(130);
    const run = readRunJson(join(out, 'latest'));
    expect(run.state).toBe('aborted');
    expect(run.cases.filter((c) => c.state === 'completed').length).toBeGreaterThanOrEqual(3);
    expect(run.cases.length).toBeLessThan(10);
    expect(ourNamespaces()).toEqual([]);
    expect(stateFiles()).toEqual([]);
    expect(processesMentioning('dist/workloads/')).toEqual([]);
  });

  it('a case whose server died is errored with its reason, and the rest of the matrix continues', async () => {
    const out = outDir();
    const short = shortIn(out);
    let killed = false;
    const r = await runWatching(
      [
        '--backend',
        'nft',
        '--path',
        'pod',
        '--workload',
        'tcp-crr,tcp-rr',
        '--services',
        '10',
        '--repeat',
        '3',
        '--ci-target',
        '0',
        ...short,
      ],
      (k) => {
        if (k === 1 && !killed) {
          killed = true;
          // This run's servers only: another file's run may be measuring tcp-crr meanwhile.
          for (const pid of processesMentioning('dist/workloads/tcp-crr/server.js')) process.kill(pid, 'SIGTERM');
        }
      },
    );
    expect(killed).toBe(true);
    expect(r.exitCode, r.stderr).toBe(0);
    const run = readRunJson(join(out, 'latest'));
    expect(run.state).toBe('completed');
    expect(run.cases).toHaveLength(6);
    const crr = run.cases.filter((c) => c.workload === 'tcp-crr');
    const rr = run.cases.filter((c) => c.workload === 'tcp-rr');
    expect(rr.every((c) => c.state === 'completed')).toBe(true);
    const errored = crr.filter((c) => c.state === 'errored');
    expect(errored.length).toBeGreaterThanOrEqual(1);
    for (const c of errored) expect(c.state === 'errored' && c.reason).toMatch(/no connections completed|failed|refused|exited/);
  });

  it('bad flags exit 2 and create nothing', async () => {
    const out = outDir();
    for (const [args, msg] of [
      [['--workload', 'tcp-rr,ftp'], /--workload: "ftp" is not a workload; one of http, http-crr, tcp-rr, tcp-crr, udp-rr, stream/],
      [['--path', 'warp'], /--path: "warp" is not a path/],
      [['--services', '0'], /--services: must be at least 1/],
      [['--services', '40000'], /--services: must be at most 30000/],
      [['--target', 'south'], /--target: must be one of first, middle, last, random/],
      [['--duration', 'abc'], /--duration: must be a number of seconds/],
      [['--repeat', '4', '--max-repeat', '3'], /--max-repeat: must be at least --repeat \(4\); got 3/],
      [['--ci-target', '-5'], /--ci-target: must be at least 0 \(got -5\)/],
      [['--time-budget', 'soon'], /--time-budget: /],
    ] as [string[], RegExp][]) {
      const r = await bench(['run', ...args, '--out', out]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    expect(ourNamespaces()).toEqual([]);
  });
});
