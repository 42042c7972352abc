import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../run/run-file.js';
import { written } from '../run/results.js';
import { join } from 'node:path';
import type { BackendOptions, BudgetExceeded } from '../../backends/types.js';
import type { RunJson } from '../run/results.js';
import type { Step } from './states.js';

// results/<run-id>/sync.json of `bench sync` (schema svcbench/sync@1): every raw sample is kept,
// everything in the reports is derived from it (DESIGN.md pattern 6). Rewritten after every scale
// point, so an interrupted run keeps its completed points.

export const SYNC_SCHEMA = 'svcbench/sync@1';

export interface SyncSample {
  variant: string;
  services: number;
  repetition: number;
  step: Step;
  totalMs: number;
  /** Milliseconds per phase: render, then the backend's own (nft: list, read-elements,
   * stale-delete, apply); a backend that reports none has render and apply. */
  phases: Record<string, number>;
  size: { count: number; unit: string };
  commands: number;
  exceeded?: BudgetExceeded;
  /** Memory the backend reported for this sync (e.g. peak RSS of its processes, kernel memory). */
  memory?: Record<string, number>;
}

export interface SyncPoint {
  variant: string;
  services: number;
  state: 'completed' | 'errored' | 'skipped' | 'not-run';
  reason?: string;
  /** Endpoints over all services of the point, and services that got no node port. */
  endpoints?: number;
  withoutNodePort?: number;
  /** Wall time of the whole point (all repetitions, probes, teardowns). */
  wallMs?: number;
  /** For a point not run: the time its series' fitted growth predicted, and the model. */
  predictedMs?: number;
  model?: string;
  /** Read-back differences after the cold full sync of each repetition (0 = as rendered). */
  readBackDifferences?: number[];
}

export interface SyncProbe {
  variant: string;
  services: number;
  repetition: number;
  pass: boolean;
  detail: string;
}

export interface SyncRun {
  schema: typeof SYNC_SCHEMA;
  runId: string;
  state: 'running' | 'completed' | 'aborted' | 'failed';
  startedAt: string;
  finishedAt?: string;
  argv: string[];
  flags: Record<string, unknown>;
  seed: number;
  environment: RunJson['environment'];
  /** What the services' endpoints followed: the --endpoints syntax, or the shape's counts. */
  endpoints: string;
  shape?: Record<string, number>;
  variants: { id: string; backend: string; options: BackendOptions; state: 'ready' | 'unavailable'; reason?: string; fix?: string }[];
  points: SyncPoint[];
  samples: SyncSample[];
  probes: SyncProbe[];
}

export class SyncWriter {
  readonly dir: string;
  constructor(
    root: string,
    readonly data: SyncRun,
  ) {
    this.dir = join(root, data.runId);
  }

  async init(): Promise<void> {
    await written(this.dir, 'create', async () => void (await mkdir(this.dir, { recursive: true })));
    await this.flush();
  }

  /** Rewrites sync.json through a temporary file and a rename (run-file.ts): a kill leaves the
   * old or the new. */
  async flush(): Promise<void> {
    const file = join(this.dir, 'sync.json');
    await written(file, 'write', () => writeFileAtomic(file, `${JSON.stringify(this.data, null, 1)}\n`));
  }
}

export async function readSyncRun(dir: string): Promise<SyncRun> {
  const data = JSON.parse(await readFile(join(dir, 'sync.json'), 'utf8')) as SyncRun;
  if (data.schema !== SYNC_SCHEMA) throw new Error(`${dir}/sync.json is not a bench sync result (schema ${String(data.schema)})`);
  return data;
}
