import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BenchError } from '../errors.js';
import { formatCommand, type Exec } from '../exec/index.js';
import { Interrupts, signalExitCode } from '../lifecycle.js';
import { newRunId } from '../sandbox/names.js';
import { processStartTime, StateFile } from '../sandbox/state.js';
import { guestVerdict } from './doctor.js';
import { cachedImage, CACHE_ROOT, ensureImage } from './image.js';
import { GUEST_FDS, QBOOT, qemuArgv } from './qemu.js';
import { renderStage2 } from './stage2.js';
import { tempPathOf } from '../run/run-file.js';
import { resultsRunId } from '../run/run-id.js';

// `bench run|verify … --kernel guest` on the host: build (once) the guest image, boot it under qemu,
// run the same command inside with the same flags, stream its stdout and stderr,
// and return its exit code. bench run's results directory is shared with the guest, so run.json
// lands in the host's results/<run-id>/ as the guest writes it, case after case.
//
// Safety: the job directory and the qemu process are recorded in a state file under /run/svcbench
// before they exist. qemu starts as `sh -c 'read go && exec qemu…'`: the shell's pid and start time
// (which exec keeps) are recorded before the go, so `bench clean` finds qemu even after a SIGKILL
// of this process at any moment. SIGINT/SIGTERM are forwarded to the command in the guest (which
// tears down and writes run.json as on the host), then qemu is stopped and everything removed.
// Nothing touches the host's network: qemu has no network device. Nothing is mounted on the host.

export const GUEST_MEMORY_MIB = 1536;
/** Boot plus shutdown of the guest should add at most this to a run (issue 7). */
const OVERHEAD_TARGET_MS = 15_000;
/** How long an interrupted guest command gets to tear down before qemu is killed. */
const STOP_GRACE_MS = 30_000;

export interface GuestRunCtx {
  exec: Exec;
  out: (text: string) => void;
  say: (line: string) => void;
}

export interface GuestRequest {
  /** The bench CLI arguments, run unchanged in the guest: --kernel guest stays, so run.json's flags
   * say where it ran, and the command inside knows it is in the guest (detect.ts) and runs there. */
  args: readonly string[];
  /** bench run's results directory (absolute), shared writable at the same path. */
  results?: string;
  /** The file the command rewrites in its run's directory there (run.json, sync.json). */
  resultsFile?: string;
  /** The guest's vCPUs (--guest-cpus); the host's cores when unset. */
  cpus?: number | undefined;
}

export async function runInGuest(ctx: GuestRunCtx, req: GuestRequest): Promise<number> {
  const argv = [process.execPath, process.argv[1]!, ...req.args];
  return ctx.exec.alter(
    () => bootGuest(ctx, req, argv),
    () => {
      sayGuestPlan(ctx, req, argv);
      return 0;
    },
  );
}

async function bootGuest(ctx: GuestRunCtx, req: GuestRequest, argv: string[]): Promise<number> {
  const ready = await guestVerdict(ctx.exec, { lookUpPackage: false });
  if (ready.state === 'unavailable') throw new BenchError(`cannot run in a guest kernel here: ${ready.reason}`, { hint: ready.fix });

  const interrupts = new Interrupts(ctx.say);
  const id = newRunId();
  const state = await StateFile.create(id, `guest ${req.args.join(' ')}`);
  const jobDir = `/tmp/svcbench-guest-${id}`;
  let child: ChildProcess | undefined;
  try {
    const image = await prepareJob(ctx, req, argv, { id, state, jobDir, interrupts });
    const qemu = guestQemuArgv(image, jobDir, req);
    const n = vcpus(req);
    ctx.say(
      `guest ${id}: booting Debian's kernel ${image.version} under qemu (TCG, ${n} vCPU${n === 1 ? '' : 's'}, ${GUEST_MEMORY_MIB} MiB)…`,
    );
    const t0 = performance.now();
    child = await startQemu(state, qemu);
    const watch = watchGuest(ctx, child);
    const qemuCode = await untilClosed(child, interrupts, watch);
    const t1 = performance.now();

    const exit = watch.status.map((l) => /^exit (\d+)/.exec(l)).find((m) => m)?.[1];
    const error = watch.status.find((l) => l.startsWith('error'));
    if (exit === undefined) {
      if (interrupts.received) return signalExitCode(interrupts.received);
      throw new BenchError(
        `the guest stopped without running the command to its end (${error ?? `qemu exited with ${qemuCode}`})\n${watch.consoleTail.slice(-40).join('\n')}`,
        { hint: 'SVCBENCH_GUEST_CONSOLE=1 streams the guest console; bench doctor checks what guest runs need' },
      );
    }
    sayTimings(ctx, image.version, t0, watch, t1);
    return Number(exit);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('close', r));
    }
    interrupts.dispose();
    await rm(jobDir, { recursive: true, force: true });
    await state.remove();
  }
}

/** --dry-run: what would boot and what would run inside, nothing created. */
function sayGuestPlan(ctx: GuestRunCtx, req: GuestRequest, argv: string[]): void {
  const image = cachedImage();
  ctx.say(image ? `guest: image ${image.version} (cached)` : `guest: would build the guest image under ${CACHE_ROOT} first`);
  const files = image ?? { kernel: `${CACHE_ROOT}/VERSION/vmlinux`, initrd: `${CACHE_ROOT}/VERSION/initrd.img` };
  ctx.say(`+ ${formatCommand({ argv: guestQemuArgv(files, '/tmp/svcbench-guest-RUNID', req) })}`);
  ctx.say(`guest: then, inside: ${formatCommand({ argv })}`);
}

/** The job directory (recorded before it exists), the guest image, the stage-2 script that runs
 * the command inside, and the shared results directory. */
async function prepareJob(
  ctx: GuestRunCtx,
  req: GuestRequest,
  argv: string[],
  job: { id: string; state: StateFile; jobDir: string; interrupts: Interrupts },
): Promise<Awaited<ReturnType<typeof ensureImage>>> {
  const { id, state, jobDir, interrupts } = job;
  // The results directory's name is chosen here and handed to the guest (run-id.ts), so the
  // temporary file of its write-then-rename is recorded on the host: a guest killed mid-write
  // leaves it in the shared directory, and bench clean removes it.
  const runId = resultsRunId(id);
  const written = req.resultsFile;
  await state.record([
    { kind: 'file', path: jobDir },
    ...(req.results === undefined || written === undefined
      ? []
      : [{ kind: 'file' as const, path: tempPathOf(join(req.results, runId, written)) }]),
  ]);
  await mkdir(jobDir, { mode: 0o700 });
  const image = await ensureImage(ctx.exec, state, ctx.say, id);
  interrupts.check();
  await writeFile(
    join(jobDir, 'stage2.sh'),
    renderStage2({
      argv,
      cwd: process.cwd(),
      env: { ...guestEnv(), SVCBENCH_RUN_ID: runId },
      ...(req.results === undefined ? {} : { results: req.results }),
    }),
  );
  if (req.results !== undefined) await mkdir(req.results, { recursive: true });
  return image;
}

/** qemu behind `sh -c 'read go && exec qemu…'`: the shell's pid is recorded before the go. In a
 * process group of its own: Ctrl-C at a terminal signals the whole foreground group, and qemu
 * would end on it at once (its default for SIGINT), cutting the command in the guest short
 * before its teardown and its last run.json; the signal reaches this process, which forwards it. */
async function startQemu(state: StateFile, qemu: string[]): Promise<ChildProcess> {
  const child = spawn('sh', ['-c', 'read -r go && exec "$@"', 'svcbench-guest', ...qemu], {
    stdio: Array(7).fill('pipe'),
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new BenchError('cannot start qemu-system-x86_64 (sh did not start)');
  await state.record([{ kind: 'process', pid, startTime: processStartTime(pid) ?? '' }]);
  (child.stdin as Writable).write('go\n');
  return child;
}

/** What the guest has said so far: its status lines, the console's last lines, when the command
 * started and exited (host clock). */
interface GuestWatch {
  status: string[];
  consoleTail: string[];
  startedAt: number | undefined;
  exitedAt: number | undefined;
}

/** Streams the command's stdout and stderr through, and collects the status and console lines. */
function watchGuest(ctx: GuestRunCtx, child: ChildProcess): GuestWatch {
  const streams = child.stdio as (Readable | null)[];
  const watch: GuestWatch = { status: [], consoleTail: [], startedAt: undefined, exitedAt: undefined };
  // setEncoding: a character split between two chunks (µ in the summary table) stays whole.
  streams[GUEST_FDS.stdout]!.setEncoding('utf8').on('data', (d: string) => ctx.out(d));
  streams[GUEST_FDS.stderr]!.on('data', (d: Buffer) => process.stderr.write(d));
  lines(streams[GUEST_FDS.status]!, (l) => {
    watch.status.push(l);
    if (l.startsWith('started')) watch.startedAt = performance.now();
    if (l.startsWith('exit')) watch.exitedAt = performance.now();
  });
  const showConsole = process.env.SVCBENCH_GUEST_CONSOLE === '1';
  const keep = (l: string) => {
    watch.consoleTail.push(l);
    if (watch.consoleTail.length > 200) watch.consoleTail.shift();
    if (showConsole) ctx.say(`guest console: ${l}`);
  };
  lines(streams[GUEST_FDS.console]!, keep);
  lines(child.stderr!, (l) => keep(`qemu: ${l}`));
  // qemu echoes nothing on stdout (the control port is input only); drain it all the same.
  child.stdout!.resume();
  return watch;
}

/** Waits for qemu to end, forwarding an interrupt to the command in the guest (qemu is killed
 * STOP_GRACE_MS later, or at once when the command has not started). Resolves to qemu's exit code. */
async function untilClosed(child: ChildProcess, interrupts: Interrupts, watch: GuestWatch): Promise<number | null> {
  const closed = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    // Before the command starts there is nothing in the guest to tear down: stop qemu now.
    if (watch.startedAt === undefined) {
      child.kill('SIGKILL');
      return;
    }
    const sig = interrupts.received ?? 'SIGTERM';
    (child.stdin as Writable).write(`${sig.replace(/^SIG/, '')}\n`);
    killTimer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  };
  if (interrupts.signal.aborted) onAbort();
  else interrupts.signal.addEventListener('abort', onAbort, { once: true });
  const qemuCode = await closed;
  clearTimeout(killTimer);
  return qemuCode;
}

/** Boot, command and shutdown times, and a note when boot plus shutdown missed the target. */
function sayTimings(ctx: GuestRunCtx, version: string, t0: number, watch: GuestWatch, t1: number): void {
  const { startedAt, exitedAt } = watch;
  if (startedAt === undefined || exitedAt === undefined) return;
  ctx.say(
    `guest: boot ${secs(startedAt - t0)} s, command ${secs(exitedAt - startedAt)} s, shutdown ${secs(t1 - exitedAt)} s (kernel ${version})`,
  );
  // The target: booting and stopping the guest add at most 15 s to a run. Emulation shares the
  // host's cores with whatever else runs, so say how loaded they were when it is missed.
  const overhead = startedAt - t0 + (t1 - exitedAt);
  if (overhead > OVERHEAD_TARGET_MS)
    ctx.say(
      `guest: boot and shutdown took ${secs(overhead)} s, over the ${OVERHEAD_TARGET_MS / 1000} s target (load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
    );
}

/** The guest's vCPUs: --guest-cpus, else every core of the host. */
const vcpus = (req: GuestRequest): number => req.cpus ?? cpus().length;

/** qemu's command line for this host: qboot when installed, the vCPUs asked for, GUEST_MEMORY_MIB. */
function guestQemuArgv(image: { kernel: string; initrd: string }, jobDir: string, req: GuestRequest): string[] {
  const { results } = req;
  return qemuArgv({
    ...(existsSync(QBOOT) ? { bios: QBOOT } : {}),
    kernel: image.kernel,
    initrd: image.initrd,
    jobDir,
    memoryMiB: GUEST_MEMORY_MIB,
    cpus: vcpus(req),
    ...(results === undefined ? {} : { results }),
  });
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

function lines(stream: Readable, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
  });
}

/** The environment the command gets in the guest: the host's, minus what names host-only state. */
function guestEnv(): Record<string, string> {
  const pass = /^(PATH|HOME|LANG|LC_\w+|TZ|TERM|NO_COLOR|FORCE_COLOR|NODE_OPTIONS|SVCBENCH_\w+)$/;
  return Object.fromEntries(Object.entries(process.env).flatMap(([k, v]) => (pass.test(k) && v !== undefined ? [[k, v]] : [])));
}
