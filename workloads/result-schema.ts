// The one zod schema for what every workload client prints (types.ts: WorkloadResult). Shared by all
// workloads' parseResult so a client that printed something else fails with the same clear message.

import { z } from 'zod';
import type { WorkloadResult } from './types.js';

const count = z.number().int().nonnegative();
const micros = z.number().nonnegative();

export const latencySchema = z.object({
  histogram: z.string().min(1),
  count,
  min: micros,
  mean: micros,
  p50: micros,
  p90: micros,
  p99: micros,
  p999: micros,
  max: micros,
});

export const workloadResultSchema = z.object({
  ops: count,
  durationMs: z.number().positive(),
  /** Failed operations other than timeouts (refused, reset, protocol violations). */
  errors: count,
  timeouts: count,
  non2xx: count,
  connectionsOpened: count,
  bytes: count,
  latencyUs: latencySchema,
  cpuUs: z.object({ user: count, system: count }),
  answeredBy: z.record(z.string(), count).optional(),
});

// Compile-time proof that the schema and the contract in types.ts describe the same object.
type Parsed = z.infer<typeof workloadResultSchema>;
const _toContract = (r: Parsed): WorkloadResult => r;
const _fromContract = (r: WorkloadResult): Parsed => r;
void _toContract;
void _fromContract;

/** A client's stdout did not hold one valid result line. */
export class WorkloadOutputError extends Error {
  constructor(
    readonly workload: string,
    message: string,
    readonly stdout: string,
  ) {
    super(`${workload} client: ${message}`);
    this.name = 'WorkloadOutputError';
  }
}

const snippet = (s: string) => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** Validates a client's stdout: exactly one non-empty line, a JSON WorkloadResult. */
export function parseWorkloadResult(workload: string, stdout: string): WorkloadResult {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) {
    throw new WorkloadOutputError(
      workload,
      lines.length === 0
        ? 'printed nothing on stdout; expected one JSON result line (look at its stderr)'
        : `printed ${lines.length} lines on stdout; expected one JSON result line, got ${snippet(stdout)}`,
      stdout,
    );
  }
  const line = lines[0]!;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new WorkloadOutputError(workload, `printed something that is not JSON: ${snippet(line)}`, stdout);
  }
  const parsed = workloadResultSchema.safeParse(json);
  if (!parsed.success) {
    throw new WorkloadOutputError(workload, `printed JSON that is not a workload result:\n${z.prettifyError(parsed.error)}`, stdout);
  }
  return parsed.data;
}
