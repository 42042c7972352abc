import type { Window } from '../../workloads/types.js';
import type { Pair, Rng } from '../stats/index.js';
import { shuffle, type PlannedCase } from './plan.js';
import type { CaseResult } from './results.js';

// Paired path blocks (issue 16): within one repetition the paths of a backend, scale point and
// workload take turns in short blocks, each path's client one process following a schedule
// (workloads/types.ts Schedule): every path warms up once, then each round gives every path one
// block, in an order shuffled per round with the run's seed. A path's block in round r is paired
// with the pod path's block in the same round, at most a few blocks away in time, so the machine's
// slow drift (this VM changes speed by itself over minutes) moves both and cancels in their ratio.

export interface BlockSettings {
  /** Length of one measured block. */
  blockMs: number;
  /** Measured time per path and repetition (--duration): rounds = durationMs / blockMs. */
  durationMs: number;
  /** Each path's one warm-up (--warmup). */
  warmupMs: number;
  /** Idle time between consecutive windows: the previous path's operations in flight finish there. */
  gapMs: number;
}

export const BLOCK_GAP_MS = 20;

export interface PairedSchedule {
  /** Every path's windows: its warm-up, then one measured block per round. */
  windows: Map<string, Window[]>;
  /** The order of the paths in each round. */
  rounds: string[][];
  /** From the epoch to the end of the last block. */
  totalMs: number;
}

/** Rounds of a repetition: the measured time over the block length, at least 2 (a pair per round). */
export const roundsOf = (s: Pick<BlockSettings, 'blockMs' | 'durationMs'>): number => Math.max(2, Math.round(s.durationMs / s.blockMs));

/** The windows of every path: warm-ups one after the other in the given order, then the rounds,
 * each in an order drawn from `rng`. */
export function pairedSchedule(paths: readonly string[], s: BlockSettings, rng: Rng): PairedSchedule {
  const windows = new Map<string, Window[]>(paths.map((p) => [p, []]));
  let t = 0;
  const add = (path: string, kind: Window['kind'], durationMs: number) => {
    windows.get(path)!.push({ kind, startMs: t, durationMs });
    t += durationMs + s.gapMs;
  };
  if (s.warmupMs > 0) for (const p of paths) add(p, 'warmup', s.warmupMs);
  const rounds: string[][] = [];
  for (let r = 0; r < roundsOf(s); r++) {
    const order = shuffle([...paths], rng);
    rounds.push(order);
    for (const p of order) add(p, 'measure', s.blockMs);
  }
  return { windows, rounds, totalMs: t - s.gapMs };
}

type Completed = Extract<CaseResult, { state: 'completed' }>;
export type Block = NonNullable<Completed['result']['blocks']>[number];

/** A block counts when it ran at least half its planned length (a client that started late
 * shortens its first windows) and completed operations. */
export const usableBlock = (b: Block): boolean => b.durationMs >= 0.5 * b.plannedMs && b.ops > 0;

/** The value of a metric in one block, where a block has it: throughput, p50 and p99. */
export const BLOCK_METRICS: Record<string, (b: Block) => number> = {
  throughput: (b) => b.ops / (b.durationMs / 1000),
  p50: (b) => b.latencyUs.p50,
  p99: (b) => b.latencyUs.p99,
};

/** The pairs of a candidate group with its baseline (the pod path's group of the same backend,
 * scale point and workload): per repetition both ran as blocks of one schedule, and block i of
 * each is round i; each pair's group is its repetition (stats/paired.ts: the unit of independent
 * replication). Pairs whose either block is unusable, or whose value is not positive, drop. */
export function blockPairs(baseline: readonly CaseResult[], candidate: readonly CaseResult[], metric: string): Pair[] {
  const of = BLOCK_METRICS[metric];
  if (of === undefined) return [];
  const byRepetition = new Map<number, Block[]>();
  for (const c of baseline) if (c.state === 'completed' && c.result.blocks !== undefined) byRepetition.set(c.repetition, c.result.blocks);
  const pairs: Pair[] = [];
  for (const c of candidate) {
    if (c.state !== 'completed' || c.result.blocks === undefined) continue;
    const base = byRepetition.get(c.repetition);
    if (base === undefined) continue;
    for (const [i, b] of c.result.blocks.entries()) {
      const a = base[i];
      if (a === undefined || !usableBlock(a) || !usableBlock(b)) continue;
      const pair = { baseline: of(a), candidate: of(b), group: c.repetition };
      if (pair.baseline > 0 && pair.candidate > 0 && Number.isFinite(pair.baseline) && Number.isFinite(pair.candidate)) pairs.push(pair);
    }
  }
  return pairs;
}

/** The plan's cases as units to run: a case alone, or, where `paired` says its workload runs in
 * blocks, every case of its backend, scale point, workload and repetition together, at the place
 * of the first of them (the plan's shuffled order of units is kept). */
export function pairedUnits<C extends PlannedCase>(cases: readonly C[], paired: (c: C) => boolean): C[][] {
  const units: C[][] = [];
  const open = new Map<string, C[]>();
  for (const c of cases) {
    if (!paired(c)) {
      units.push([c]);
      continue;
    }
    const key = `${c.backend}/${c.services}/${c.workload}#${c.repetition}`;
    const unit = open.get(key);
    if (unit !== undefined) unit.push(c);
    else {
      const fresh = [c];
      open.set(key, fresh);
      units.push(fresh);
    }
  }
  return units;
}
