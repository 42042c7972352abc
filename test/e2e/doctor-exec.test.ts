import * as pty from 'node-pty';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../backends/index.js';
import { readKernelConfig } from '../../src/host/kernel.js';
import { BENCH, bench, isRoot, requireBuild } from '../helpers.js';

describe('bench doctor', () => {
  it('reports every backend; IPVS as the kernel allows: unavailable without IP_VS, naming --kernel guest', async () => {
    requireBuild();
    const r = await bench(['doctor', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as {
      backends: { name: string; preflight: { state: string; reason?: string; fix?: string; checks: { what: string; state: string }[] } }[];
    };
    const by = Object.fromEntries(d.backends.map((b) => [b.name, b.preflight]));
    expect(Object.keys(by)).toEqual(BACKEND_NAMES);
    // IPVS depends on the kernel: a kernel config without CONFIG_IP_VS must make it unavailable
    // with that reason; a ready verdict means every check passed; an unavailable one names --kernel guest.
    const config = readKernelConfig();
    if (config !== undefined && !['y', 'm'].includes(config.get('CONFIG_IP_VS') ?? '')) {
      expect(by.ipvs!.state).toBe('unavailable');
      expect(by.ipvs!.reason).toMatch(/CONFIG_IP_VS is not set/);
    }
    if (by.ipvs!.state === 'unavailable') expect(by.ipvs!.fix).toMatch(/--kernel guest/);
    else expect(by.ipvs!.checks.filter((c) => c.state !== 'ok')).toEqual([]);
    // After scripts/setup, the other backends have what they need on this kernel.
    for (const name of ['iptables', 'iptables-restore', 'nft', 'ebpf']) expect(by[name], name).toMatchObject({ state: 'ready' });
    expect(by.ebpf!.checks.map((c) => c.what)).toEqual(expect.arrayContaining(['cgroup2', 'bpffs', 'BTF', 'bpftool', 'clang']));
    const human = await bench(['doctor']);
    expect(human.stderr).toMatch(new RegExp(`^ipvs: ${by.ipvs!.state}`, 'm'));
    if (by.ipvs!.state === 'unavailable') expect(human.stderr).toContain(`reason: ${by.ipvs!.reason}`);
  });
});

describe.runIf(isRoot)('bench exec without a command: an interactive shell on a real pty', () => {
  it('runs in the namespace, with job control and window size working', async () => {
    requireBuild();
    const upr = await bench(['up', '--pods', '1', '--json']);
    const { runId, pods } = JSON.parse(upr.stdout) as { runId: string; pods: { ip: string }[] };
    try {
      const term = pty.spawn(process.execPath, [BENCH, 'exec', '--run', runId, 'srv-0'], {
        cols: 100,
        rows: 30,
        env: { ...process.env, SHELL: '/bin/bash', TERM: 'xterm' } as Record<string, string>,
      });
      let screen = '';
      term.onData((d) => (screen += d));
      const exited = new Promise<number>((res) => term.onExit((e) => res(e.exitCode)));
      const waitFor = async (re: RegExp) => {
        const deadline = Date.now() + 10_000;
        while (!re.test(screen)) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${screen}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const type = async (line: string, expect_: RegExp) => {
        term.write(`${line}\r`);
        await waitFor(expect_);
      };
      await type('echo ready-$((6*7))', /ready-42/);
      // The shell is in the run's cgroup (where the eBPF backend's socket programs attach).
      await type('grep -c svcb-' + runId + ' /proc/self/cgroup', /^1\r?$/m);
      await type('ip -o -4 address show eth0', new RegExp(`${pods[0]!.ip.replace(/\./g, '\\.')}/32`));
      await type('stty size', /30 100/);
      term.resize(120, 40);
      await type('stty size', /40 120/);
      // Job control: Ctrl-Z stops the foreground job (the pty delivers SIGTSTP), bg/jobs/fg work,
      // and Ctrl-C interrupts it.
      term.write('sleep 300\r');
      await new Promise((r) => setTimeout(r, 300));
      term.write('\x1a');
      await waitFor(/\[1\]\+\s+Stopped\s+sleep 300/);
      await type('bg', /\[1\]\+ sleep 300 &/);
      await type('jobs', /\[1\]\+\s+Running\s+sleep 300 &/);
      term.write('fg\r');
      await new Promise((r) => setTimeout(r, 300));
      term.write('\x03');
      await type('echo after-$?', /after-130/);
      term.write('exit 5\r');
      expect(await exited).toBe(5);
    } finally {
      await bench(['down', runId]);
    }
  });
});

describe.runIf(isRoot)('bench exec with a command', () => {
  it("runs pod and node commands in the run's cgroup, the external one outside it", async () => {
    requireBuild();
    const upr = await bench(['up', '--pods', '1', '--json']);
    const { runId } = JSON.parse(upr.stdout) as { runId: string };
    try {
      const cgroupOf = async (target: string) => {
        const r = await bench(['exec', '--run', runId, target, '--', 'cat', '/proc/self/cgroup']);
        expect(r.exitCode, r.stderr).toBe(0);
        return r.stdout;
      };
      expect(await cgroupOf('srv-0')).toContain(`/svcb-${runId}`);
      expect(await cgroupOf('node')).toContain(`/svcb-${runId}`);
      expect(await cgroupOf('external')).not.toContain(`svcb-${runId}`);
    } finally {
      await bench(['down', runId]);
    }
  });
});
