import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { allowedCpus, cpuPlan } from '../../src/run/pin.js';
import { bench, isRoot, leavesNothingBehind, ourNamespaces, processesMentioning, stateFiles } from '../helpers.js';
import { readRunJson, runWatching, shortIn } from './run-support.js';
import { tempDirs } from '../temp-dirs.js';

// `bench run` end to end, the tests that look at processes or namespaces machine-wide or kill
// servers by name: this file runs alone (vitest.config.ts), one test at a time.

// Every test writes under its own directory: concurrent ones must not read each other's
// results/latest.
const outDir = tempDirs('svcbench-run-');

describe.runIf(isRoot)('bench run, alone', { timeout: 300_000 }, () => {
  leavesNothingBehind({ stateFiles: true, alone: true });

  // Alone: with other files' runs loading the machine, throughput swings between repetitions can
  // keep even a ±100% target unmet at 6 repetitions.
  it('adaptive repetitions: an unreachable --ci-target runs up to --max-repeat and warns, unless --time-budget stops it; a loose one stops at --repeat', async () => {
    const out = outDir();
    const short = shortIn(out);
    const args = [
      'run',
      '--backend',
      'nft',
      '--workload',
      'tcp-rr',
      '--path',
      'pod',
      '--services',
      '10',
      '--repeat',
      '2',
      '--max-repeat',
      '4',
    ];
    const tight = await bench([...args, '--ci-target', '0.001', ...short], { timeoutMs: 120_000 });
    expect(tight.exitCode, tight.stderr).toBe(0);
    expect(tight.stderr).toMatch(
      /extra round 1 @10 services: 1 case group \(median's CI wider than ±0\.001% or n < 6: nft \(1\.37\) pod tcp-rr\)/,
    );
    expect(tight.stderr).toMatch(/extra round 2 @10 services/);
    expect(tight.stderr).not.toMatch(/extra round 3/);
    const run = readRunJson(join(out, 'latest'));
    expect(run.state).toBe('completed');
    expect(run.flags).toMatchObject({ repeat: 2, maxRepeat: 4, ciTarget: 0.001 });
    expect(run.cases.map((c) => [c.id, c.state])).toEqual([1, 2, 3, 4].map((k) => [`nft (1.37)/10/pod/tcp-rr#${k}`, 'completed']));
    const warning = /CI wider than ±0\.001% after 4 repetitions \(--ci-target\)/;
    expect(tight.stdout).toMatch(/^\* this case group: CI wider than ±0\.001% after 4 repetitions/m);
    expect(tight.stderr).toMatch(warning);
    expect(readFileSync(join(out, 'latest', 'report.md'), 'utf8')).toMatch(warning);

    // The same unreachable target within a 1 s budget: the first extra round would end past it.
    const budgeted = await bench([...args, '--ci-target', '0.001', '--time-budget', '1', ...short], { timeoutMs: 120_000 });
    expect(budgeted.exitCode, budgeted.stderr).toBe(0);
    expect(budgeted.stderr).not.toMatch(/^extra round/m);
    expect(budgeted.stderr).toMatch(/no extra round @10 services: 1 case group .* would end past the 1 s --time-budget/);
    expect(readRunJson(join(out, 'latest')).cases.map((c) => c.id)).toEqual([1, 2].map((k) => `nft (1.37)/10/pod/tcp-rr#${k}`));

    // A loose target is met as soon as there are 6 values (fewer give no 95% interval).
    const loose = await bench([...args.slice(0, -4), '--repeat', '6', '--max-repeat', '8', '--ci-target', '100', ...short], {
      timeoutMs: 120_000,
    });
    expect(loose.exitCode, loose.stderr).toBe(0);
    expect(loose.stderr).not.toMatch(/extra round/);
    const run2 = readRunJson(join(out, 'latest'));
    expect(run2.cases.map((c) => [c.id, c.state])).toEqual([1, 2, 3, 4, 5, 6].map((k) => [`nft (1.37)/10/pod/tcp-rr#${k}`, 'completed']));
    expect(readFileSync(join(out, 'latest', 'report.md'), 'utf8')).not.toMatch(/--ci-target\)/);
  });

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
          void execa('pkill', ['-f', 'dist/workloads/tcp-crr/server.js']);
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
