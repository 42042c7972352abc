import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunChecked } from '../../src/run/results.js';
import { createRng } from '../../src/stats/prng.js';
import { BENCH, bench, isRoot, ourNamespaces, processesMentioning, requireBuild, rootSnapshot, stateFiles } from '../helpers.js';

// Random kills (issue 19 item 1, the start of it): SIGKILL or SIGINT at a seeded random moment of
// `bench up`, `bench verify` or a small `bench run` (nft); after a SIGKILL, `bench clean`. Then
// nothing may be left: namespaces, state files, cgroups, bpffs mounts, processes naming a run; a
// run killed after its case completed keeps a run.json that verifies. FAULTS_KILL_TRIALS trials
// (default 20), FAULTS_SEED picks them (printed). The existing interrupt.test.ts kills `bench up`
// at fixed command counts; this one kills at times, over three commands.

const TRIALS = Number(process.env.FAULTS_KILL_TRIALS ?? 20);
const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 1_000_000);

const out = mkdtempSync(join(tmpdir(), 'svcbench-kill-'));
const COMMANDS: { name: string; argv: string[]; spanMs: number }[] = [
  { name: 'up', argv: ['up', '--pods', '8'], spanMs: 1500 },
  { name: 'verify', argv: ['verify', '--backend', 'nft'], spanMs: 6000 },
  {
    name: 'run',
    argv: [
      'run',
      '--backend',
      'nft',
      '--services',
      '10',
      '--workload',
      'tcp-rr',
      '--path',
      'pod',
      '--repeat',
      '1',
      '--duration',
      '1',
      '--ci-target',
      '0',
    ],
    spanMs: 8000,
  },
];

function residue(): string[] {
  const cgroups = readdirSync('/sys/fs/cgroup').filter((n) => n.startsWith('svcb'));
  const unified = existsSync('/sys/fs/cgroup/unified') ? readdirSync('/sys/fs/cgroup/unified').filter((n) => n.startsWith('svcb')) : [];
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes('svcb'));
  return [
    ...ourNamespaces().map((n) => `netns ${n}`),
    ...stateFiles().map((f) => `state ${f}`),
    ...[...cgroups, ...unified].map((c) => `cgroup ${c}`),
    ...mounts.map((m) => `mount ${m}`),
    ...processesMentioning('svcb-').map((p) => `process ${p}`),
  ];
}

describe.runIf(isRoot)(`random kills (seed ${SEED})`, () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    expect(residue()).toEqual([]);
    before = await rootSnapshot();
  });
  afterAll(async () => {
    await bench(['clean']);
    rmSync(out, { recursive: true, force: true });
  });

  it(`${TRIALS} kills at random moments leave nothing after teardown or bench clean`, async () => {
    const rng = createRng(SEED);
    const phases = new Set<string>();
    const residues: string[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const cmd = COMMANDS[rng.nextInt(COMMANDS.length)]!;
      const signal: NodeJS.Signals = rng.nextInt(2) === 0 ? 'SIGKILL' : 'SIGINT';
      const atMs = rng.nextInt(cmd.spanMs);
      const runOut = join(out, String(t));
      const argv = cmd.name === 'run' ? [...cmd.argv, '--out', runOut] : cmd.argv;
      // Its own process group, signalled whole (as Ctrl-C at a terminal, or a kill of the job).
      const child = execa(process.execPath, [BENCH, '--print-commands', ...argv], { reject: false, stdin: 'ignore', detached: true });
      let last = '';
      child.stderr!.on('data', (c: Buffer) => {
        const lines = c
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('+ '));
        if (lines.length)
          last = lines
            .at(-1)!
            .slice(2)
            .replace(/^\[[^\]]*\] /, '')
            .slice(0, 40);
      });
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already done
        }
      }, atMs);
      const r = await child;
      clearTimeout(timer);
      const killed = r.signal !== undefined || r.exitCode === 130;
      phases.add(`${cmd.name}: ${killed ? last.split(' ')[0] || 'start' : 'finished'}`);
      if (signal === 'SIGKILL' || !killed) {
        const c = await bench(['clean']);
        expect(c.exitCode, c.stderr).toBe(0);
      }
      const left = residue();
      if (left.length > 0) residues.push(`trial ${t} (${cmd.name}, ${signal} at ${atMs} ms): ${left.join(', ')}`);
      if (cmd.name === 'run' && existsSync(runOut)) {
        const dirs = readdirSync(runOut).filter((d) => d !== 'latest');
        for (const d of dirs)
          if (existsSync(join(runOut, d, 'run.json'))) expect((await readRunChecked(join(runOut, d))).checksum).toBe('verified');
      }
      await bench(['clean']);
    }
    console.log(
      `random kills (seed ${SEED}): ${TRIALS} trials, phases hit: ${[...phases].sort().join('; ')}; residues: ${residues.length}`,
    );
    expect(residues).toEqual([]);
  }, 600_000);

  it('leaves the root namespace exactly as it was', async () => {
    expect(await rootSnapshot()).toEqual(before);
  });
});
