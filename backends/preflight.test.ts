import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS } from './index.js';

// A missing tool makes preflight say which Debian package to install.
describe('preflight with tools missing from PATH', () => {
  const saved = process.env.PATH;
  afterEach(() => {
    process.env.PATH = saved;
  });

  it.each([
    ['nft', 'nft', 'nftables'],
    ['iptables-restore', 'iptables-legacy-restore', 'iptables'],
    ['iptables', 'iptables-legacy', 'iptables'],
    ['ipvs', 'ipvsadm', 'ipvsadm'],
    ['ebpf', 'bpftool', 'bpftool'],
  ])('%s names the package', async (name, tool, pkg) => {
    process.env.PATH = '/nonexistent';
    const p = await BACKENDS.find((b) => b.name === name)!.preflight({ iptablesMode: 'legacy', syncTimeoutMs: 1000 });
    expect(p.state).toBe('unavailable');
    if (p.state !== 'unavailable') return;
    expect(p.reason).toContain(`${tool} not found`);
    expect(p.fix).toContain(`apt-get install ${pkg}`);
  });
});
