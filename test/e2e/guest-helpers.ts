import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { afterAll, beforeAll } from 'vitest';
import { BENCH, bench, processesMentioning, requireBuild, rootSnapshot } from '../helpers.js';

// What the guest files share (guest, guest-kill, ipvs-guest): their hooks, starting a guest run and
// finding what it leaves.

/** Processes of guest `id` (any when omitted) that are qemu itself, not the sh that execs it. */
export function qemuOf(id = ''): number[] {
  return processesMentioning(`svcbench.job=/tmp/svcbench-guest-${id}`).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu');
    } catch {
      return false;
    }
  });
}

/** What a guest run leaves behind if teardown fails: qemu, its job directory, its state file. */
export function guestResidue(id: string) {
  return {
    qemu: processesMentioning(`svcbench.job=/tmp/svcbench-guest-${id}`),
    jobDir: existsSync(`/tmp/svcbench-guest-${id}`),
    stateFile: existsSync(`/run/svcbench/${id}.json`),
    builds: existsSync('/var/cache/svcbench/guest') ? readdirSync('/var/cache/svcbench/guest').filter((n) => n.includes(id)) : [],
  };
}
export const NONE = { qemu: [], jobDir: false, stateFile: false, builds: [] };

/** Whether guest `id` left anything. Not a deep comparison with NONE: the guest files run in a VM
 * context (vitest.config.ts), where node:fs's arrays and the file's own have different prototypes,
 * and a strict comparison would never find them equal. */
function leftSomething(id: string): boolean {
  const r = guestResidue(id);
  return r.qemu.length > 0 || r.jobDir || r.stateFile || r.builds.length > 0;
}

/** The guest runs this file started (their session ids), for its afterAll. */
const started = new Set<string>();

/** The session id a guest command printed (`guest <id>: booting`), remembered for the afterAll. */
export function guestId(stderr: string): string | undefined {
  const id = /guest (\w{6}): booting/.exec(stderr)?.[1];
  if (id !== undefined) started.add(id);
  return id;
}

/** Starts `bench ARGS` and resolves once stderr shows the guest session id (qemu is starting). */
export function startGuest(args: string[]) {
  const child = execa(process.execPath, [BENCH, ...args], { reject: false, stdin: 'ignore' });
  let stderr = '';
  let exited = false;
  void child.then(() => (exited = true));
  const id = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const id = guestId(stderr);
      if (id !== undefined) resolve(id);
    });
    void child.then(() => reject(new Error(`bench exited before booting a guest:\n${stderr}`)));
  });
  return { child, id, stderr: () => stderr, exited: () => exited };
}

/** The hooks of a describe that boots guests: before its tests, the build is there and the root
 * namespace is snapshotted; after them, `bench clean` if a guest this file started left something
 * (one stopped short may leave qemu). Only then: these files run beside the machine-wide ones
 * (vitest.config.ts), whose `bench up` sandboxes outlive their command, and `bench clean` would
 * remove them. Returns the snapshot, for the tests to compare with. */
export function guestHooks(): () => Record<string, string> {
  let before: Record<string, string> = {};
  beforeAll(async () => {
    requireBuild();
    before = await rootSnapshot();
  });
  afterAll(async () => {
    if ([...started].some(leftSomething)) await bench(['clean']);
  });
  return () => before;
}
