import { describe, expect, it } from 'vitest';
import { variants } from './variants.js';

const base = { iptablesMode: ['nft' as const], syncTimeout: 20 };

describe('variants', () => {
  it('makes one series per kube-proxy line of the nft backend (default 1.37)', () => {
    expect(variants({ ...base, backend: ['nft'] }).map((v) => v.id)).toEqual(['nft (1.37)']);
    const vs = variants({ ...base, backend: ['nft'], kubeProxy: ['1.35', '1.37', '1.35'] });
    expect(vs.map((v) => v.id)).toEqual(['nft (1.35)', 'nft (1.37)']);
    expect(vs[0]!.options).toMatchObject({ kubeProxy: '1.35', iptablesMode: 'nft', syncTimeoutMs: 20_000 });
  });

  it('makes one series per iptables flavour of the iptables backends', () => {
    const vs = variants({ backend: ['iptables-restore', 'ebpf', 'ipvs'], iptablesMode: ['legacy', 'nft'], syncTimeout: 5 });
    expect(vs.map((v) => v.id)).toEqual(['iptables-restore (legacy)', 'iptables-restore (nft)', 'ebpf', 'ipvs (legacy)', 'ipvs (nft)']);
    expect(vs[0]!.options.iptablesMode).toBe('legacy');
    expect(variants({ ...base, backend: ['ipvs'] }).map((v) => v.id)).toEqual(['ipvs (nft)']);
    expect(variants({ ...base, backend: ['ipvs', 'nft'] }, { flavourLabels: false }).map((v) => v.id)).toEqual(['ipvs', 'nft (1.37)']);
  });

  it('applies --kube-proxy to the nft backend only', () => {
    const vs = variants({ ...base, backend: ['iptables-restore', 'nft'], kubeProxy: ['1.36'] });
    expect(vs.map((v) => v.id)).toEqual(['iptables-restore (nft)', 'nft (1.36)']);
  });

  it('rejects --kube-proxy when no backend has kube-proxy lines (exit 2, naming the flag)', () => {
    expect(() => variants({ ...base, backend: ['iptables-restore'], kubeProxy: ['1.35'] })).toThrow(
      /^--kube-proxy: iptables-restore has no kube-proxy lines; only nft does/,
    );
    expect(() => variants({ ...base, backend: ['ebpf', 'iptables'], kubeProxy: ['1.35'] })).toThrow(/--kube-proxy: ebpf, iptables have no/);
  });
});
