import { describe, expect, it } from 'vitest';
import { FakeExec, type Command } from '../../src/exec/index.js';
import { cfg, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import type { NodeTarget } from '../types.js';
import { ipvs } from './backend.js';

// apply and teardown against the fake exec: which tools run, in which order, with which input.

const target = (exec: FakeExec): NodeTarget => ({
  exec,
  netns: 'node',
  cfg,
  options: { iptablesMode: 'legacy', syncTimeoutMs: 20_000 },
});
/** The tool of each command, with the first argument that tells the steps apart. */
const steps = (cmds: Command[]): string[] =>
  cmds.map((c) => (c.argv[0] === 'iptables-legacy' ? `iptables ${c.argv.slice(2, 5).join(' ')}` : c.argv.slice(0, 2).join(' ')));

describe('apply', () => {
  it('full sync: device, addresses, ipvsadm-restore, sysctls, ipset, then the iptables side', async () => {
    // Every jump's check fails on the empty table, so the script inserts all 9.
    const exec = new FakeExec((c) => (c.argv[0] === 'sh' ? { stdout: 'inserted\n'.repeat(9) } : undefined));
    const rendered = ipvs.render(undefined, smallState, cfg, target(exec).options);
    const applied = await ipvs.apply(target(exec), rendered);
    const s = steps(exec.commands);
    expect(s.slice(0, 5)).toEqual(['ip link', 'ip -batch', 'ipvsadm-restore', 'sysctl -q', 'ipset restore']);
    expect(s.at(-1)).toBe('iptables-legacy-restore -w');
    // EnsureChain for the 11 chains, then a check for each of the 9 jumps (an insert where it fails).
    const script = exec.commands
      .find((c) => c.argv[0] === 'sh')!
      .argv[2]!.trimEnd()
      .split('\n');
    expect(script.filter((l) => l.startsWith('iptables-legacy -w -t') && l.includes(' -N ')).length).toBe(11);
    expect(script.filter((l) => l.includes(' -C ') && l.includes(' -I ')).length).toBe(9);
    expect(applied.commands).toBe(1 + 1 + 4 + 1 + 1 + 11 + 18 + 1);
    const restore = exec.commands.find((c) => c.argv[0] === 'ipvsadm-restore')!;
    expect(restore.netns).toBe('node');
    expect(restore.stdin).toBe(rendered.payload.ipvsadm);
    expect(exec.commands.find((c) => c.argv[0] === 'sysctl')!.argv).toContain('net.ipv4.vs.conntrack=1');
    expect(exec.commands.every((c) => c.netns === 'node')).toBe(true);
  });

  it('partial sync: ipvsadm -R and ipset restore with the diff, jumps checked only, stale addresses last', async () => {
    const exec = new FakeExec();
    const rendered = ipvs.render(smallState, smallStateNext, cfg, target(exec).options);
    await ipvs.apply(target(exec), rendered);
    const s = steps(exec.commands);
    expect(s.slice(0, 3)).toEqual(['ip -batch', 'ipvsadm -R', 'ipset restore']);
    expect(s).not.toContain('sysctl -q');
    expect(s).toContain('sh -c');
    expect(s.slice(-2)).toEqual(['iptables-legacy-restore -w', 'ip -batch']);
    expect(exec.commands.at(-1)!.stdin).toBe('address del 172.30.0.44/32 dev kube-ipvs0\n');
  });

  it('a full sync of no services still clears the IPVS table', async () => {
    const exec = new FakeExec();
    await ipvs.apply(target(exec), ipvs.render(undefined, { services: [], endpoints: {} }, cfg, target(exec).options));
    expect(exec.commands.map((c) => c.argv.join(' '))).toContain('ipvsadm -C');
  });

  it('fails on any ipvsadm -R error, even with exit status 0', async () => {
    const exec = new FakeExec((c) => (c.argv[0] === 'ipvsadm' ? { stderr: 'Service already exists\n' } : undefined));
    const rendered = ipvs.render(smallState, smallStateNext, cfg, target(exec).options);
    await expect(ipvs.apply(target(exec), rendered)).rejects.toThrow(/ipvsadm -R failed \(exit 0\): Service already exists/);
  });

  it('names the line ipset restore rejected', async () => {
    const exec = new FakeExec((c) =>
      c.argv[0] === 'ipset' ? { exitCode: 1, stderr: 'ipset v7.17: Error in line 2: Element cannot be added\n' } : undefined,
    );
    const rendered = ipvs.render(smallState, smallStateNext, cfg, target(exec).options);
    const line2 = rendered.payload.ipset.split('\n')[1]!;
    await expect(ipvs.apply(target(exec), rendered)).rejects.toThrow(`ipset restore rejected the input at line 2: ${line2}`);
  });
});

describe('teardown', () => {
  it('removes iptables rules before the sets that they use, then IPVS, the device and the sysctls', async () => {
    const exec = new FakeExec();
    await ipvs.teardown(target(exec));
    expect(steps(exec.commands)).toEqual(['iptables-legacy-restore -w', 'ipset destroy', 'ipvsadm -C', 'ip link', 'sysctl -q']);
  });
});
