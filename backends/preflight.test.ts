import { describe, expect, it } from 'vitest';
import { FakeExec, RealExec } from '../src/exec/index.js';
import { BACKENDS } from './index.js';
import { binary, versionLine } from './preflight.js';

// A missing tool makes preflight say which Debian package to install.
describe('preflight with a tool that cannot start', () => {
  it.each([
    ['nft', 'nft', 'nftables'],
    ['iptables-restore', 'iptables-legacy-restore', 'iptables'],
    ['iptables', 'iptables-legacy', 'iptables'],
    ['ipvs', 'ipvsadm', 'ipvsadm'],
    ['ebpf', 'bpftool', 'bpftool'],
  ])('%s names the package', async (name, tool, pkg) => {
    const exec = new FakeExec((c) => {
      if (c.argv[0] === tool) throw new Error(`spawn ${tool} ENOENT`);
      return { stdout: `${c.argv[0]} v1.0\n` };
    });
    const p = await BACKENDS.find((b) => b.name === name)!.preflight({ iptablesMode: 'legacy', syncTimeoutMs: 1000 }, exec);
    expect(p.state).toBe('unavailable');
    if (p.state !== 'unavailable') return;
    expect(p.reason).toContain(`${tool} not found`);
    expect(p.fix).toContain(`apt-get install ${pkg}`);
  });
});

describe('binary', () => {
  it('runs the version command through the exec port: a tool that starts is there, whatever its exit code', async () => {
    const exec = new FakeExec((c) =>
      c.argv[0] === 'ipvsadm' ? { exitCode: 2, stderr: 'modprobe: FATAL\n', stdout: 'ipvsadm v1.31\n' } : undefined,
    );
    expect(await binary(exec, 'ipvsadm', ['--version'], 'ipvsadm')).toEqual({ what: 'ipvsadm', state: 'ok', detail: 'ipvsadm v1.31' });
    expect(exec.transcript()).toEqual(['ipvsadm --version']);
  });

  it('a tool whose version command prints only errors is "unavailable: REASON", never the error as its version', async () => {
    const exec = new FakeExec((c) =>
      c.argv[0] === 'ipvsadm'
        ? {
            exitCode: 2,
            stderr:
              "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44-fc-v1300\nCan't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
          }
        : undefined,
    );
    expect(await binary(exec, 'ipvsadm', ['--version'], 'ipvsadm')).toEqual({
      what: 'ipvsadm',
      state: 'ok',
      detail: "unavailable: `ipvsadm --version` exited 2 (Can't initialize ipvs: Protocol not available)",
    });
  });

  it('a binary that is not on PATH is missing, for real', async () => {
    const c = await binary(new RealExec(), 'svcbench-no-such-tool', ['--version'], 'nothing');
    expect(c).toMatchObject({ state: 'missing', fix: 'apt-get install nothing (or run scripts/setup)' });
  });
});

describe('versionLine', () => {
  it('picks the version line, not an error line before it that holds digits', () => {
    const ipvsadm =
      'modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44-fc-v595\nipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n';
    expect(versionLine(ipvsadm)).toBe('ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)');
    expect(versionLine('Debian clang version 14.0.6\nTarget: x86_64-pc-linux-gnu\n')).toBe('Debian clang version 14.0.6');
    expect(versionLine('nftables v1.0.6 (Lester Gooch #5)\n')).toBe('nftables v1.0.6 (Lester Gooch #5)');
    expect(versionLine('socat 1.7.4.4\n')).toBe('socat 1.7.4.4');
    expect(versionLine('no number here\n')).toBe('');
    expect(versionLine('modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18.44-fc-v1300\n')).toBe('');
  });
});
