import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mounts } from '../../src/host/kernel.js';
import { BENCH, bench, isRoot, ourNamespaces, processesMentioning, requireBuild, rootSnapshot, stateFiles } from '../helpers.js';

// Teardown always: SIGINT at many points of `bench up`, and SIGKILL followed by `bench clean`,
// leave no namespace, veth, process or state file. "Points" are deterministic: the signal is sent
// right after the k-th command has been printed by --print-commands.

async function interruptAfter(k: number, signal: 'SIGINT' | 'SIGKILL', extra: string[] = []) {
  const child = execa(process.execPath, [BENCH, '--print-commands', 'up', '--pods', '8', ...extra], { reject: false, stdin: 'ignore' });
  let seen = 0;
  let sent = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    seen += chunk
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('+ ')).length;
    if (!sent && seen >= k) {
      sent = true;
      child.kill(signal);
    }
  });
  const r = await child;
  return { sent, exitCode: r.exitCode, signal: r.signal, stderr: String(r.stderr) };
}

function expectNoResidue() {
  expect(ourNamespaces()).toEqual([]);
  expect(stateFiles()).toEqual([]);
  expect(processesMentioning('svcb-')).toEqual([]);
}

describe.runIf(isRoot)('interrupts', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    expect(ourNamespaces()).toEqual([]);
    before = await rootSnapshot();
  });
  afterAll(async () => {
    await bench(['clean']);
  });

  // `up --pods 8` runs 1 + 11 + 1 + 10 = 23 commands: points 1..12 cover every step kind.
  it.each([1, 2, 3, 4, 5, 6, 8, 10, 12, 13, 14, 16, 20])('SIGINT after command %i tears everything down', async (k) => {
    const r = await interruptAfter(k, 'SIGINT');
    expect(r.sent).toBe(true);
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT: stopping and tearing down/);
    expectNoResidue();
  });

  it.each([1, 3, 7, 13, 20])('SIGKILL after command %i, then bench clean, leaves nothing', async (k) => {
    const r = await interruptAfter(k, 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    const c = await bench(['clean']);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(c.stderr).toMatch(/removed run \w{6} \(found by state file\)/);
    expectNoResidue();
    const again = await bench(['clean']);
    expect(again.stderr).toContain('nothing to clean');
  });

  // `up --pods 8 --nodes 3` runs 1 + 13 + 1 + 3 + 10 + 1 = 29 commands (namespaces, sysctls, the
  // underlay, the nodes, the rest, the bpffs mount; the cgroups are made in-process).
  it.each([2, 15, 17, 20, 29])('--nodes 3: SIGINT after command %i tears everything down', async (k) => {
    const r = await interruptAfter(k, 'SIGINT', ['--nodes', '3']);
    expect(r.sent).toBe(true);
    expect(r.exitCode, r.stderr).toBe(130);
    expectNoResidue();
  });

  it.each([1, 16, 18, 29])('--nodes 3: SIGKILL after command %i, then bench clean, leaves nothing', async (k) => {
    const r = await interruptAfter(k, 'SIGKILL', ['--nodes', '3']);
    expect(r.signal).toBe('SIGKILL');
    const c = await bench(['clean']);
    expect(c.exitCode, c.stderr).toBe(0);
    expectNoResidue();
  });

  it('bench clean finds namespaces by name prefix when no state file names them', async () => {
    const up = await bench(['up', '--pods', '1', '--json']);
    const { runId } = JSON.parse(up.stdout) as { runId: string };
    await execa('rm', ['-f', `/run/svcbench/${runId}.json`]);
    const c = await bench(['clean']);
    expect(c.stderr).toContain(`removed run ${runId} (found by name prefix): 4 namespaces`);
    expectNoResidue();
  });

  it('bench clean finds every node and the underlay of a multi-node sandbox by name prefix', async () => {
    const up = await bench(['up', '--pods', '2', '--nodes', '3', '--json']);
    const { runId } = JSON.parse(up.stdout) as { runId: string };
    await execa('rm', ['-f', `/run/svcbench/${runId}.json`]);
    const c = await bench(['clean']);
    expect(c.stderr).toContain(`removed run ${runId} (found by name prefix): 8 namespaces`);
    expectNoResidue();
  });

  it("bench clean unmounts a run's bpffs that a process outside the run still uses", async () => {
    const up = await bench(['up', '--pods', '1', '--json']);
    const { runId } = JSON.parse(up.stdout) as { runId: string };
    const bpffs = `/run/svcbench/${runId}-bpffs`;
    const mounted = () => mounts().some((m) => m.point === bpffs);
    expect(mounted()).toBe(true);
    // Its working directory inside the mount makes a plain umount fail with EBUSY; it is in no
    // namespace or cgroup of the run, so clean does not kill it.
    const user = execa('sh', ['-c', 'exec sleep 60'], { cwd: bpffs, reject: false });
    try {
      const c = await bench(['clean']);
      expect(c.stderr).toMatch(new RegExp(`removed run ${runId} \\(found by state file\\): .*1 bpffs mounts`));
      expect(mounted()).toBe(false);
      expectNoResidue();
    } finally {
      user.kill('SIGKILL');
      await user;
    }
  });

  it('leaves the root namespace exactly as it was', async () => {
    expect(await rootSnapshot()).toEqual(before);
  });
});
