import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH, bench, isRoot, ourNamespaces, requireBuild, rootSnapshot } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
const ebpfDir = tempDirs('svcbench-ebpf-');

// The eBPF backend for real: the conformance suite, and that neither teardown nor `bench clean`
// after SIGKILL leaves a cgroup, bpffs mount, pin or loaded program behind.

const CGROUP2 = '/sys/fs/cgroup/unified';
const PROGRAMS = ['sock4_connect', 'sock4_sendmsg', 'sock4_recvmsg', 'sock4_getpeername', 'nodeport_ingress', 'nodeport_egress'];

const runIdIn = (text: string): string | undefined => /svcb-([a-z0-9]{6})-node/.exec(text)?.[1];

/** Our programs still loaded anywhere (bpftool names them). */
async function loadedPrograms(): Promise<string[]> {
  const r = await execa('bpftool', ['-j', 'prog', 'show'], { reject: false });
  const progs = JSON.parse(String(r.stdout) || '[]') as { name?: string }[];
  return progs.flatMap((p) => (p.name && PROGRAMS.includes(p.name) ? [p.name] : []));
}

/** What a run may leave: its cgroup, its bpffs mount (and mount point). */
function residue(runId: string): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`${runId}-bpffs`));
  return [
    ...(existsSync(`${CGROUP2}/svcb-${runId}`) ? [`cgroup svcb-${runId}`] : []),
    ...mounts.map((m) => `mount ${m.split(' ')[4]}`),
    ...(existsSync(`/run/svcbench/${runId}-bpffs`) ? [`mount point /run/svcbench/${runId}-bpffs`] : []),
    ...ourNamespaces(runId).map((n) => `netns ${n}`),
  ];
}

/** Programs are freed once their last reference (pin, attachment, fd) goes, a moment later. */
async function expectNoProgramsSoon(): Promise<void> {
  const deadline = Date.now() + 5000;
  let left = await loadedPrograms();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = await loadedPrograms();
  }
  expect(left).toEqual([]);
}

describe.runIf(isRoot)('ebpf backend', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    before = await rootSnapshot();
    expect(await loadedPrograms()).toEqual([]);
  });
  afterAll(async () => {
    expect(await rootSnapshot()).toEqual(before);
    expect(readdirSync('/sys/fs/bpf').filter((n) => n.includes('svcb'))).toEqual([]);
  });

  it('passes the conformance suite, then leaves no cgroup, mount, pin or program', async () => {
    const r = await bench(['--print-commands', 'verify', '--backend', 'ebpf', '--services', '40', '--json'], { timeoutMs: 120_000 });
    const report = JSON.parse(r.stdout) as { checks: { name: string; pass: boolean; detail: string }[]; passed: boolean };
    expect(report.checks.filter((c) => !c.pass)).toEqual([]);
    expect(report.checks).toHaveLength(14);
    expect(r.exitCode, r.stderr).toBe(0);
    // Pod and node processes joined the run's cgroup; the external client did not.
    const runId = runIdIn(r.stderr)!;
    expect(r.stderr).toMatch(new RegExp(`\\+ \\[svcb-${runId}-cli-0 cgroup ${CGROUP2}/svcb-${runId}\\] `));
    expect(r.stderr).toMatch(new RegExp(`\\+ \\[svcb-${runId}-ext\\] `));
    expect(r.stderr).not.toMatch(new RegExp(`\\[svcb-${runId}-ext cgroup`));
    expect(residue(runId)).toEqual([]);
    await expectNoProgramsSoon();
  });

  // TCP across nodes is in nodes.test.ts (verify and run); this is UDP through the tc SNAT path:
  // every datagram of the workload goes node 0 → node 1 with node 0's IP as its source, and back.
  it('forwards UDP NodePort to an endpoint on another node with SNAT, then leaves nothing', async () => {
    const out = ebpfDir();
    const r = await bench(
      ['run', '--nodes', '2', '--backend', 'ebpf', '--path', 'nodeport-remote', '--workload', 'udp-rr', '--services', '20'].concat([
        '--repeat',
        '1',
        '--ci-target',
        '0',
        '--duration',
        '0.5',
        '--warmup',
        '0.2',
        '--sync-iterations',
        '0',
        '--seed',
        '1',
        '--out',
        out,
      ]),
      { timeoutMs: 60_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = readdirSync(out)[0]!;
    const run = JSON.parse(readFileSync(join(out, dir, 'run.json'), 'utf8')) as {
      backends: { sandbox?: string }[];
      cases: { state: string; seen?: unknown[]; result?: { ops: number; errors: number; timeouts: number } }[];
    };
    expect(run.cases).toHaveLength(1);
    const [c] = run.cases;
    expect(c).toMatchObject({ state: 'completed', seen: [{ peer: '198.18.0.1', hops: 2 }], result: { errors: 0, timeouts: 0 } });
    expect(c!.result!.ops).toBeGreaterThan(100);
    expect(run.backends[0]!.sandbox).toMatch(/^[a-z0-9]{6}$/);
    expect(residue(run.backends[0]!.sandbox!)).toEqual([]);
    await expectNoProgramsSoon();
  });

  it('SIGKILL with the programs attached, then bench clean, leaves nothing', async () => {
    const child = execa(process.execPath, [BENCH, '--print-commands', 'verify', '--backend', 'ebpf'], { reject: false, stdin: 'ignore' });
    let stderr = '';
    const attached = new Promise<void>((resolve) =>
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first checks' probes after the full sync (the servers' readiness probe before it is
        // no --batch): programs loaded, attached and maps written.
        if (/\+ \[svcb-\w{6}-cli-0 cgroup [^\]]+\] \S+ \S+connect\.js --batch/.test(stderr)) resolve();
      }),
    );
    await Promise.race([attached, child]);
    const runId = runIdIn(stderr)!;
    expect(runId).toBeDefined();
    // Something to clean up: the run's cgroup with the four socket programs on it, and its mount.
    const shown = await execa('bpftool', ['-j', 'cgroup', 'show', `${CGROUP2}/svcb-${runId}`]);
    expect((JSON.parse(String(shown.stdout)) as unknown[]).length).toBe(4);
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
    expect(residue(runId).length).toBeGreaterThan(0);

    const c = await bench(['clean']);
    expect(c.exitCode, c.stderr).toBe(0);
    expect(c.stderr).toMatch(new RegExp(`removed run ${runId} \\(found by state file\\): .*1 cgroups, 1 bpffs mounts`));
    expect(residue(runId)).toEqual([]);
    await expectNoProgramsSoon();
  });
});
