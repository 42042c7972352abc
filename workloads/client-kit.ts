// What every workload client shares: its command line, the warm-up/measure clock, the microsecond
// latency histogram and the one JSON line it prints. Clients stay small and alike because of it.

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import type { WorkloadParams, WorkloadResult } from './types.js';

// ---------------------------------------------------------------------------------------------
// Command line

export interface ClientArgs {
  host: string;
  port: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  rate: number | undefined;
  messageSize: number;
  /** Per-operation timeout (UDP: per datagram; TCP: socket idle time while waiting). */
  timeoutMs: number;
}

/** argv of a node client: [node, script, --flag value …]. `rate` only for clients that pace. */
export function nodeClientArgv(script: string, p: WorkloadParams, opts: { rate?: boolean } = {}): string[] {
  return [
    process.execPath,
    script,
    '--host',
    p.host,
    '--port',
    String(p.port),
    '--duration-ms',
    String(p.durationMs),
    '--warmup-ms',
    String(p.warmupMs),
    '--connections',
    String(p.connections),
    '--message-size',
    String(p.messageSize),
    ...(opts.rate === true && p.rate !== undefined ? ['--rate', String(p.rate)] : []),
  ];
}

const USAGE = '--host IP --port N --duration-ms N [--warmup-ms N] [--connections N] [--message-size N] [--rate N] [--timeout-ms N]';

/** Exits 2 with a message on stderr: the only case a client does not print a result. */
function usageExit(prog: string, message: string): never {
  process.stderr.write(`${prog}: ${message}\nusage: ${prog} ${USAGE}\n`);
  process.exit(2);
}

function int(prog: string, flag: string, raw: string | undefined, min: number, max: number, dflt?: number): number {
  if (raw === undefined) {
    if (dflt === undefined) usageExit(prog, `--${flag} is required`);
    return dflt;
  }
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    usageExit(prog, `--${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function parseClientArgs(prog: string, defaults: { timeoutMs: number; messageSize: number }): ClientArgs {
  let values: Record<string, string | undefined>;
  try {
    const str = { type: 'string' } as const;
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        host: str,
        port: str,
        'duration-ms': str,
        'warmup-ms': str,
        connections: str,
        rate: str,
        'message-size': str,
        'timeout-ms': str,
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usageExit(prog, (e as Error).message);
  }
  const host = values.host;
  // An address, never a name: there is no resolver inside the benchmark's namespaces.
  if (host === undefined || isIP(host) === 0) usageExit(prog, `--host must be an IP address, got ${JSON.stringify(host)}`);
  return {
    host,
    port: int(prog, 'port', values.port, 1, 65535),
    durationMs: int(prog, 'duration-ms', values['duration-ms'], 1, 86_400_000),
    warmupMs: int(prog, 'warmup-ms', values['warmup-ms'], 0, 86_400_000, 0),
    connections: int(prog, 'connections', values.connections, 1, 10_000, 1),
    rate: values.rate === undefined ? undefined : int(prog, 'rate', values.rate, 1, 10_000_000),
    messageSize: int(prog, 'message-size', values['message-size'], 1, 16 << 20, defaults.messageSize),
    timeoutMs: int(prog, 'timeout-ms', values['timeout-ms'], 1, 3_600_000, defaults.timeoutMs),
  };
}

// ---------------------------------------------------------------------------------------------
// Clock: warm-up (not recorded), then the measured time

/**
 * Phases switch on timers, and an event belongs to the phase that is current when its callback
 * runs; the reported duration is the hrtime between the two switches, so counts and duration
 * describe the same interval. CPU is sampled at both switches too.
 */
export class Measurement {
  phase: 'warmup' | 'measure' | 'done' = 'warmup';
  readonly ended: Promise<void>;
  private startNs = 0n;
  private endNs = 0n;
  private cpuStart: NodeJS.ResourceUsage | undefined;
  private cpuEnd: NodeJS.ResourceUsage | undefined;

  constructor(warmupMs: number, durationMs: number) {
    let resolve!: () => void;
    this.ended = new Promise((r) => (resolve = r));
    const end = () => {
      this.endNs = process.hrtime.bigint();
      this.cpuEnd = process.resourceUsage();
      this.phase = 'done';
      resolve();
    };
    const begin = () => {
      this.startNs = process.hrtime.bigint();
      this.cpuStart = process.resourceUsage();
      this.phase = 'measure';
      setTimeout(end, durationMs);
    };
    if (warmupMs === 0) begin();
    else setTimeout(begin, warmupMs);
  }

  get measuring(): boolean {
    return this.phase === 'measure';
  }

  get durationMs(): number {
    return Number(this.endNs - this.startNs) / 1e6;
  }

  /** userCPUTime/systemCPUTime (µs, process.resourceUsage) spent in the measured time only, so
   * that CPU per operation divides two numbers from the same interval. */
  get cpuUs(): WorkloadResult['cpuUs'] {
    const a = this.cpuStart;
    const b = this.cpuEnd ?? process.resourceUsage();
    return {
      user: Math.max(0, b.userCPUTime - (a?.userCPUTime ?? 0)),
      system: Math.max(0, b.systemCPUTime - (a?.systemCPUTime ?? 0)),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Latency: HdrHistogram in microseconds

/**
 * Pure-JS HdrHistogram (no WebAssembly: nothing to initialise, and encoding works the same),
 * 3 significant digits, 1 µs to 60 s, growing if needed. Decode with
 * hdr.decodeFromCompressedBase64(histogram) (same default 32-bit buckets).
 */
export class LatencyRecorder {
  readonly histogram = hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

  /** A latency in microseconds (fractions rounded; 0 is recorded as 1, the resolution). */
  record(us: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(us)));
  }

  /**
   * Coordinated-omission correction (HdrHistogram recordValueWithExpectedInterval): a response
   * that took longer than the pacing interval also records the requests a non-blocked sender
   * would have issued meanwhile, at latencies value − k·interval.
   */
  recordCorrected(us: number, expectedIntervalUs: number): void {
    this.histogram.recordValueWithExpectedInterval(Math.max(1, Math.round(us)), Math.max(1, Math.round(expectedIntervalUs)));
  }

  summary(): WorkloadResult['latencyUs'] {
    const h = this.histogram;
    const count = h.totalCount;
    const at = (p: number) => (count === 0 ? 0 : h.getValueAtPercentile(p));
    return {
      histogram: hdr.encodeIntoCompressedBase64(h),
      count,
      min: count === 0 ? 0 : h.minNonZeroValue,
      mean: count === 0 ? 0 : h.mean,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: count === 0 ? 0 : h.maxValue,
    };
  }
}

/** A monotonic clock in microseconds with sub-microsecond fractions. */
export const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

// ---------------------------------------------------------------------------------------------
// Counts and the result line

export interface Tally {
  ops: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  connectionsOpened: number;
  bytes: number;
}

export const newTally = (): Tally => ({ ops: 0, errors: 0, timeouts: 0, non2xx: 0, connectionsOpened: 0, bytes: 0 });

/** Error codes seen (in any phase), summarised on stderr for people; stdout stays data only. */
export class ErrorLog {
  private readonly codes = new Map<string, number>();
  note(e: unknown): void {
    const code = (e as { code?: string } | null)?.code ?? (e as Error | null)?.message ?? String(e);
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
  print(prog: string): void {
    if (this.codes.size === 0) return;
    const list = [...this.codes].map(([c, n]) => `${c}×${n}`).join(', ');
    process.stderr.write(`${prog}: errors seen (all phases): ${list}\n`);
  }
}

/** Prints the one JSON result line and exits 0 (errors are data, not a failure of the client). */
export function emitResult(
  prog: string,
  m: Measurement,
  tally: Tally,
  latency: LatencyRecorder,
  extra: { answeredBy?: Map<string, number>; errorLog?: ErrorLog } = {},
): void {
  const result: WorkloadResult = {
    ...tally,
    durationMs: m.durationMs,
    latencyUs: latency.summary(),
    cpuUs: m.cpuUs,
    ...(extra.answeredBy === undefined ? {} : { answeredBy: Object.fromEntries(extra.answeredBy) }),
  };
  extra.errorLog?.print(prog);
  // Exit from the write callback: sockets still closing must not hold the process (or the run).
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}
