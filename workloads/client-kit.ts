// What every workload client shares: its command line, the warm-up/measure clock, the microsecond
// latency histogram and the one JSON line it prints. Clients stay small and alike because of it.

import { connect, isIP, type Socket, type TcpSocketConnectOpts } from 'node:net';
import { parseArgs } from 'node:util';
import hdr from 'hdr-histogram-js';
import type { Schedule, Window, WorkloadParams, WorkloadResult } from './types.js';

// ---------------------------------------------------------------------------------------------
// Command line

export interface ClientArgs {
  /** One or more addresses, all on `port` (WorkloadParams.hosts): repeated --host flags. */
  hosts: string[];
  port: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  rate: number | undefined;
  messageSize: number;
  /** Per-operation timeout (UDP: per datagram; TCP: socket idle time while waiting). */
  timeoutMs: number;
  /** A schedule of windows (paired blocks, WorkloadParams.schedule) instead of one warm-up and
   * one measured time: absent for a plain run. */
  schedule: Schedule | undefined;
}

/** "w:0+500" / "m:1520+500": a window as the --window flag carries it. */
export const formatWindow = (w: Window): string => `${w.kind === 'warmup' ? 'w' : 'm'}:${w.startMs}+${w.durationMs}`;

/** The --window flag's value, or undefined when it is not one. */
export function parseWindow(raw: string): Window | undefined {
  const m = /^([wm]):(\d+)\+(\d+)$/.exec(raw);
  if (m === null) return undefined;
  return { kind: m[1] === 'w' ? 'warmup' : 'measure', startMs: Number(m[2]), durationMs: Number(m[3]) };
}

/** argv of a node client: [node, script, --flag value …]. `rate` only for clients that pace. */
export function nodeClientArgv(script: string, p: WorkloadParams, opts: { rate?: boolean } = {}): string[] {
  return [
    process.execPath,
    script,
    ...p.hosts.flatMap((h) => ['--host', h]),
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
    ...(p.schedule === undefined
      ? []
      : ['--epoch-ms', String(p.schedule.epochMs), ...p.schedule.windows.flatMap((w) => ['--window', formatWindow(w)])]),
  ];
}

const USAGE =
  '--host IP [--host IP …] --port N --duration-ms N [--warmup-ms N] [--connections N] [--message-size N] [--rate N] [--timeout-ms N] [--epoch-ms T --window w|m:START+LENGTH …]';

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
  let values: {
    [flag in 'port' | 'duration-ms' | 'warmup-ms' | 'connections' | 'rate' | 'message-size' | 'timeout-ms' | 'epoch-ms']?: string;
  } & {
    host?: string[];
    window?: string[];
  };
  try {
    const str = { type: 'string' } as const;
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        host: { type: 'string', multiple: true },
        port: str,
        'duration-ms': str,
        'warmup-ms': str,
        connections: str,
        rate: str,
        'message-size': str,
        'timeout-ms': str,
        'epoch-ms': str,
        window: { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usageExit(prog, (e as Error).message);
  }
  const hosts = values.host ?? [];
  if (hosts.length === 0) usageExit(prog, '--host is required');
  // Addresses, never names: there is no resolver inside the benchmark's namespaces.
  for (const h of hosts) if (isIP(h) === 0) usageExit(prog, `--host must be an IP address, got ${JSON.stringify(h)}`);
  return {
    hosts,
    port: int(prog, 'port', values.port, 1, 65535),
    durationMs: int(prog, 'duration-ms', values['duration-ms'], 1, 86_400_000),
    warmupMs: int(prog, 'warmup-ms', values['warmup-ms'], 0, 86_400_000, 0),
    connections: int(prog, 'connections', values.connections, 1, 10_000, 1),
    rate: values.rate === undefined ? undefined : int(prog, 'rate', values.rate, 1, 10_000_000),
    messageSize: int(prog, 'message-size', values['message-size'], 1, 16 << 20, defaults.messageSize),
    timeoutMs: int(prog, 'timeout-ms', values['timeout-ms'], 1, 3_600_000, defaults.timeoutMs),
    schedule: scheduleOf(prog, values['epoch-ms'], values.window),
  };
}

function scheduleOf(prog: string, epoch: string | undefined, raw: string[] | undefined): Schedule | undefined {
  if (epoch === undefined && raw === undefined) return undefined;
  if (epoch === undefined || raw === undefined) usageExit(prog, '--epoch-ms and --window come together');
  const windows = raw.map(
    (r) => parseWindow(r) ?? usageExit(prog, `--window must be w:START+LENGTH or m:START+LENGTH, got ${JSON.stringify(r)}`),
  );
  for (let i = 1; i < windows.length; i++)
    if (windows[i]!.startMs < windows[i - 1]!.startMs + windows[i - 1]!.durationMs)
      usageExit(prog, `--window ${formatWindow(windows[i]!)} starts before the previous one ends`);
  return { epochMs: int(prog, 'epoch-ms', epoch, 0, Number.MAX_SAFE_INTEGER), windows };
}

/**
 * Where each new connection goes, for the connection-per-operation clients (the pod path passes
 * every endpoint pod's IP): an independent uniform draw per connection, the way the Service paths
 * pick an endpoint (kube-proxy's nftables `numgen random mod N`, iptables' `-m statistic --mode
 * random`, the eBPF backend's random slot), so the baseline sends the same pattern of connections
 * to the servers as the paths it is compared with. Not round-robin: round-robin sends every
 * connection to a different server process than the one before, while a random pick sends 1/N of
 * them to the server that has just answered, whose task and caches are still warm; with one
 * connection at a time that pattern alone made the pod path measure slower than ClusterIP through
 * the same servers (workloads/README.md, "Measurements"). With one host it is that one.
 */
export function randomPick<T>(targets: readonly T[], random: () => number = Math.random): () => T {
  if (targets.length === 1) return () => targets[0]!;
  return () => targets[Math.min(targets.length - 1, Math.floor(random() * targets.length))]!;
}

// ---------------------------------------------------------------------------------------------
// Clock: warm-up (not recorded), then the measured time

/** One measured window of a scheduled client, as the result reports it (WorkloadResult.blocks). */
export type BlockRecord = NonNullable<WorkloadResult['blocks']>[number];

/**
 * Phases switch on timers, and an event belongs to the phase that is current when its callback
 * runs; the reported duration is the hrtime between the two switches, so counts and duration
 * describe the same interval. CPU is sampled at both switches too.
 *
 * A plain run is one warm-up followed by one measured time. A scheduled run (Schedule) goes
 * through its windows on the wall clock and is 'idle' between them: clients start no new
 * operation then and resume in the next window (whenActive). Each measured window is reported
 * as a block with its own counts and latency; the totals (durationMs, cpuUs, the tally) add up
 * the measured windows. A window whose start has passed when the client gets there (a slow
 * start) begins at once and still ends at its planned end, so its recorded duration says so.
 */
export class Measurement {
  phase: 'idle' | 'warmup' | 'measure' | 'done' = 'idle';
  readonly ended: Promise<void>;
  readonly blocks: BlockRecord[] = [];
  /** Counts up at every window's start: an operation begun in one window is not counted in another. */
  window = 0;
  private measuredNs = 0n;
  private readonly cpuSum = { user: 0, system: 0 };
  private waiting: (() => void)[] = [];
  private readonly hooks: { begin: (w: Window) => void; end: (w: Window) => void }[] = [];

  /** `track`: the tally and latency recorder whose per-window differences make the blocks. */
  constructor(
    private readonly schedule: Schedule,
    private readonly track?: { tally: Tally; latency: LatencyRecorder },
    readonly scheduled = false,
  ) {
    this.ended = this.run();
  }

  /** The client's arguments' schedule, or a plain warm-up then measured time starting now. */
  static of(a: Pick<ClientArgs, 'warmupMs' | 'durationMs' | 'schedule'>, track?: { tally: Tally; latency: LatencyRecorder }): Measurement {
    if (a.schedule !== undefined) return new Measurement(a.schedule, track, true);
    const windows: Window[] = [
      ...(a.warmupMs > 0 ? [{ kind: 'warmup' as const, startMs: 0, durationMs: a.warmupMs }] : []),
      { kind: 'measure', startMs: a.warmupMs, durationMs: a.durationMs },
    ];
    return new Measurement({ epochMs: Date.now(), windows }, track);
  }

  get measuring(): boolean {
    return this.phase === 'measure';
  }

  /** Load may be applied: inside a warm-up or measured window. */
  get active(): boolean {
    return this.phase === 'warmup' || this.phase === 'measure';
  }

  /** Calls `resume` now when a window is open, else when the next one opens (never after the last). */
  whenActive(resume: () => void): void {
    if (this.active) resume();
    else if (this.phase !== 'done') this.waiting.push(resume);
  }

  /** Calls `begin` as each window opens and `end` as it closes (a client that restarts its
   * load generator per window, as the http client's autocannon). */
  onWindow(begin: (w: Window) => void, end: (w: Window) => void): void {
    this.hooks.push({ begin, end });
  }

  get durationMs(): number {
    return Number(this.measuredNs) / 1e6;
  }

  /** userCPUTime/systemCPUTime (µs, process.resourceUsage) spent in the measured windows only, so
   * that CPU per operation divides two numbers from the same intervals. */
  get cpuUs(): WorkloadResult['cpuUs'] {
    return { ...this.cpuSum };
  }

  private async run(): Promise<void> {
    const { epochMs, windows } = this.schedule;
    for (const w of windows) {
      await sleepUntil(epochMs + w.startMs);
      const startNs = process.hrtime.bigint();
      const cpu0 = process.resourceUsage();
      const before = this.track === undefined ? undefined : { ...this.track.tally };
      if (w.kind === 'measure') this.track?.latency.startBlock();
      this.window++;
      this.phase = w.kind;
      for (const h of this.hooks) h.begin(w);
      const resume = this.waiting;
      this.waiting = [];
      for (const r of resume) r();
      await sleepUntil(epochMs + w.startMs + w.durationMs);
      const endNs = process.hrtime.bigint();
      const cpu1 = process.resourceUsage();
      this.phase = 'idle';
      for (const h of this.hooks) h.end(w);
      if (w.kind !== 'measure') continue;
      this.measuredNs += endNs - startNs;
      const cpuUs = {
        user: Math.max(0, cpu1.userCPUTime - cpu0.userCPUTime),
        system: Math.max(0, cpu1.systemCPUTime - cpu0.systemCPUTime),
      };
      this.cpuSum.user += cpuUs.user;
      this.cpuSum.system += cpuUs.system;
      if (this.track !== undefined && before !== undefined)
        this.blocks.push(blockRecord(w, Number(endNs - startNs) / 1e6, before, this.track, cpuUs));
    }
    this.phase = 'done';
    this.waiting = [];
  }
}

function blockRecord(
  w: Window,
  durationMs: number,
  before: Tally,
  track: { tally: Tally; latency: LatencyRecorder },
  cpuUs: WorkloadResult['cpuUs'],
): BlockRecord {
  const t = track.tally;
  const l = track.latency.blockSummary();
  return {
    startMs: w.startMs,
    plannedMs: w.durationMs,
    durationMs,
    ops: t.ops - before.ops,
    errors: t.errors - before.errors,
    timeouts: t.timeouts - before.timeouts,
    connectionsOpened: t.connectionsOpened - before.connectionsOpened,
    latencyUs: l,
    cpuUs,
  };
}

/** Resolves at Date.now() ≥ atMs (at once when it has passed). */
function sleepUntil(atMs: number): Promise<void> {
  const wait = atMs - Date.now();
  return wait <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, wait));
}

// ---------------------------------------------------------------------------------------------
// Latency: HdrHistogram in microseconds

const buildHistogram = () =>
  hdr.build({
    useWebAssembly: false,
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

/**
 * Pure-JS HdrHistogram (no WebAssembly: nothing to initialise, and encoding works the same),
 * 3 significant digits, 1 µs to 60 s, growing if needed. Decode with
 * hdr.decodeFromCompressedBase64(histogram) (same default 32-bit buckets).
 */
export class LatencyRecorder {
  readonly histogram = buildHistogram();

  /** The current measured window's latencies (Measurement's blocks), beside the whole run's. */
  private block: ReturnType<typeof hdr.build> | undefined;

  /** A latency in microseconds (fractions rounded; 0 is recorded as 1, the resolution). */
  record(us: number): void {
    const v = Math.max(1, Math.round(us));
    this.histogram.recordValue(v);
    this.block?.recordValue(v);
  }

  /** Starts a new block: blockSummary() describes the latencies recorded from now on. */
  startBlock(): void {
    this.block ??= buildHistogram();
    this.block.reset();
  }

  blockSummary(): BlockRecord['latencyUs'] {
    const h = this.block;
    const count = h?.totalCount ?? 0;
    if (h === undefined || count === 0) return { count: 0, mean: 0, p50: 0, p99: 0 };
    return { count, mean: h.mean, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99) };
  }

  /**
   * Coordinated-omission correction (HdrHistogram recordValueWithExpectedInterval): a response
   * that took longer than the pacing interval also records the requests a non-blocked sender
   * would have issued meanwhile, at latencies value − k·interval.
   */
  recordCorrected(us: number, expectedIntervalUs: number): void {
    const [v, interval] = [Math.max(1, Math.round(us)), Math.max(1, Math.round(expectedIntervalUs))];
    this.histogram.recordValueWithExpectedInterval(v, interval);
    this.block?.recordValueWithExpectedInterval(v, interval);
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

/** A monotonic clock in microseconds with sub-microsecond fractions (performance.now(): the same
 * uv_hrtime clock as process.hrtime, as a double, without a BigInt per reading). */
export const nowUs = (): number => performance.now() * 1000;

// ---------------------------------------------------------------------------------------------
// Lean sockets: what a node client spends per operation
//
// Measured on the pod path against wrk (scripts/bench-loadgen.ts): a node client's CPU per
// operation goes mostly to Node's per-socket and per-read machinery, not to its own work. So the
// TCP clients (1) read through net's `onread` option into one shared buffer (no Buffer allocation
// and no stream push per read), (2) keep one net.Socket per loop and reconnect it after 'close'
// (a documented use of socket.connect(); building a new Socket per connection costs user CPU
// that the connection loop would otherwise measure), and (3) check timeouts from one interval instead of a timer per socket that every
// read and write refreshes.

/** The receive buffer every socket of a client reads into (net's `onread` option). One is enough:
 * a client is one thread, and each callback consumes the bytes before it returns. */
export const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Connects a socket that reads into sharedReadBuffer (net's `onread` connect option): `onRead`
 * gets each read's byte count and the buffer. The socket keeps that option for life, so after its
 * 'close' the caller opens the next connection with socket.connect(target) on the same object.
 */
export function connectReading(target: TcpSocketConnectOpts, onRead: (n: number, buf: Buffer) => void): Socket {
  return connect({
    ...target,
    onread: {
      buffer: sharedReadBuffer,
      callback: (n) => {
        onRead(n, sharedReadBuffer);
        return true; // false would pause the socket
      },
    },
  });
}

/** What the timeout sweep needs of a connection or loop. */
export interface TimedOp {
  /** Waiting for the network: connecting, or a request is out and its answer incomplete. */
  waiting: boolean;
  /** nowUs() of the last connect, write or read. */
  lastActivityUs: number;
}

/**
 * Idle timeouts for all of a client's connections from one interval: `onTimeout` is called for
 * each one waiting with no activity for timeoutMs, so a timeout fires between timeoutMs and
 * timeoutMs plus the sweep period (a tenth of timeoutMs, 10 ms to 1 s): the same idle-time
 * semantics as socket.setTimeout, at a coarser resolution.
 */
export function sweepTimeouts<T extends TimedOp>(ops: readonly T[], timeoutMs: number, onTimeout: (op: T) => void): void {
  const period = Math.min(1000, Math.max(10, timeoutMs / 10));
  setInterval(() => {
    const idleSince = nowUs() - timeoutMs * 1000;
    for (const op of ops) if (op.waiting && op.lastActivityUs < idleSince) onTimeout(op);
  }, period).unref();
}

// ---------------------------------------------------------------------------------------------
// Persistent connections (tcp-rr, stream)

/**
 * `n` long-lived connections made by `open(host)`, each kept open for the whole run: connection i
 * goes to hosts[i % hosts.length] (with fewer connections than hosts, the last hosts get none),
 * and a connection that fails (errors), ends early (errors, code EOF) or stays silent for
 * `timeoutMs` inside a window (timeouts) is counted while measuring and reopened to the same host
 * after 10 ms (in the next window when none is open), so a dead path does not spin the CPU.
 * `closeAll()` destroys the ones still open, for good: when the measurement is over, or at the
 * end of a window of a client that opens its connections per window (stream).
 */
export class PersistentConnections {
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly m: Measurement,
    private readonly tally: Tally,
    private readonly errorLog: ErrorLog,
    private readonly open: (host: string) => Socket,
    private readonly timeoutMs: number,
  ) {}

  start(hosts: readonly string[], n: number): void {
    for (let i = 0; i < n; i++) this.add(hosts[i % hosts.length]!);
  }

  closeAll(): void {
    const open = [...this.sockets];
    this.sockets.clear();
    for (const s of open) s.destroy();
  }

  private add(host: string): void {
    const { m, tally, errorLog } = this;
    if (m.phase === 'done') return;
    const s = this.open(host);
    this.sockets.add(s);
    s.setTimeout(this.timeoutMs);
    s.on('connect', () => {
      if (m.measuring) tally.connectionsOpened++;
    });
    s.on('timeout', () => {
      // Between a schedule's windows a connection is idle on purpose.
      if (!m.active) return;
      errorLog.note({ code: 'ETIMEDOUT' });
      if (m.measuring) tally.timeouts++;
      s.destroy();
    });
    s.on('error', (e) => {
      errorLog.note(e);
      if (m.measuring) tally.errors++;
    });
    s.on('end', () => {
      if (m.phase === 'done') return;
      errorLog.note({ code: 'EOF' });
      if (m.measuring) tally.errors++;
    });
    s.on('close', () => {
      // Not in the set: closeAll() closed it, and nothing reopens it.
      if (!this.sockets.delete(s)) return;
      setTimeout(() => m.whenActive(() => this.add(host)), 10);
    });
  }
}

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
    ...(m.scheduled ? { blocks: m.blocks } : {}),
    ...(extra.answeredBy === undefined ? {} : { answeredBy: Object.fromEntries(extra.answeredBy) }),
  };
  extra.errorLog?.print(prog);
  // Exit from the write callback: sockets still closing must not hold the process (or the run).
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}
