import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSchema, type RunJson } from '../../src/run/results.js';

// What run.test.ts and run-adaptive.test.ts share.

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
