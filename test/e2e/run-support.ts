import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { runSchema, type RunJson } from '../../src/run/results.js';
import { BENCH } from '../helpers.js';

// Shared by the `bench run` end-to-end files: run.test.ts (tests that may overlap other files) and
// run-alone.test.ts (tests that look at processes machine-wide, run alone).

export const readRunJson = (dir: string): RunJson => runSchema.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));
// These tests check behaviour, not figures: cases as short as the flags allow (--duration ≥ 0.2 s),
// two programming-latency repetitions (a median still) and two partial-sync iterations.
export const shortIn = (out: string) => [
  '--duration',
  '0.25',
  '--warmup',
  '0.1',
  '--sync-iterations',
  '2',
  '--proglat-repeat',
  '2',
  '--out',
  out,
];

/** Starts a run in its own process group and calls `onCase(k)` after the k-th case has finished
 * (progress lines "  → …"); `kill` signals the whole group, as Ctrl-C at a terminal does, so the
 * load generators and servers get the signal too. */
export async function runWatching(args: string[], onCase: (k: number, kill: (sig: NodeJS.Signals) => void) => void) {
  const child = execa(process.execPath, [BENCH, 'run', ...args], { reject: false, stdin: 'ignore', detached: true });
  let k = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.startsWith('  → ')) onCase(++k, (s) => process.kill(-child.pid!, s));
  });
  const r = await child;
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}
