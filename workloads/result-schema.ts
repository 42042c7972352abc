// What every workload client prints, as one zod schema and the type inferred from it
// (WorkloadResult). Every workload's parseResult validates with it, so a client that printed something
// else fails with the same clear message, and run.json (src/run/results.ts) stores results of this shape.

import { z } from 'zod';

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

/** What one client run measured: raw counts and a microsecond latency histogram. */
export const workloadResultSchema = z.object({
  /** Completed operations (requests, transactions, connections) in the measured time. */
  ops: count,
  /** Measured time as the client clocked it. */
  durationMs: z.number().positive(),
  /** Failed operations other than timeouts (refused, reset, protocol violations). */
  errors: count,
  timeouts: count,
  /** HTTP responses with a status outside 2xx. */
  non2xx: count,
  /** TCP connections the client opened in the measured time (proves connection-per-request). */
  connectionsOpened: count,
  /** Bytes received by the client in the measured time. */
  bytes: count,
  /** Latency per operation, microseconds; `histogram` is the HdrHistogram compressed base64 form
   * (hdr-histogram-js encodeIntoCompressedBase64), the raw data everything else derives from. */
  latencyUs: latencySchema,
  /** The client process's own CPU time (process.resourceUsage), microseconds. */
  cpuUs: z.object({ user: count, system: count }),
  /** A scheduled run's measured windows (paired path blocks, src/run/paired.ts), in order: what
   * each one counted, its planned and clocked length and its latency summary. The totals above
   * add them up. Absent for a plain run. */
  blocks: z
    .array(
      z.object({
        /** Planned start, ms from the schedule's epoch. */
        startMs: z.number().nonnegative(),
        plannedMs: z.number().nonnegative(),
        /** hrtime between the window's two switches (shorter than planned when it began late). */
        durationMs: z.number().nonnegative(),
        ops: count,
        errors: count,
        timeouts: count,
        connectionsOpened: count,
        latencyUs: z.object({ count, mean: micros, p50: micros, p99: micros }),
        cpuUs: z.object({ user: count, system: count }),
      }),
    )
    .optional(),
  /** Which servers answered (pod name → operations), when the protocol lets the server say. */
  answeredBy: z.record(z.string(), count).optional(),
});

export type WorkloadResult = z.infer<typeof workloadResultSchema>;

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
