import { describe, expect, it } from 'vitest';
import { bench, isRoot, leavesNothingBehind, ourNamespaces } from '../helpers.js';

// `bench verify` for every netfilter backend and both iptables flavours, over real connections.

const CHECKS = [
  'read-back after full sync',
  'ClusterIP from a pod',
  'ClusterIP from the node',
  'hairpin: a pod reaches its own service',
  'NodePort from the external namespace',
  'NodePort from a pod',
  'UDP through ClusterIP',
  'spread over 3 endpoints',
  'ClientIP affinity sticks',
  'service to be deleted answers before',
  'read-back after partial sync',
  "a deleted service's VIP no longer answers",
  'an endpoint added by a partial sync receives traffic',
  'a filter on the pod IP also blocks its ClusterIP and NodePort',
];

interface Report {
  backend: string;
  options: { iptablesMode: string };
  checks: { name: string; pass: boolean; detail: string }[];
  syncs: { step: string; kind: string; renderMs: number; applyMs: number; phases: Record<string, number> }[];
  passed: boolean;
}

describe.runIf(isRoot)('bench verify', () => {
  leavesNothingBehind();

  const cases: [string, string[]][] = [
    // Every kube-proxy profile of the nft backend (backends/nft/profiles.ts).
    ['nft', ['--kube-proxy', '1.35']],
    ['nft', ['--kube-proxy', '1.36']],
    ['nft', ['--kube-proxy', '1.37']],
    ['nft', ['--kube-proxy', 'single-map']],
    ['iptables-restore', ['--iptables-mode', 'legacy']],
    ['iptables-restore', ['--iptables-mode', 'nft']],
  ];
  // The rule-by-rule backend runs one iptables command per rule, each taking the host-wide xtables
  // lock, and stops when its pace cannot fit --sync-timeout: it runs alone, after the others.
  const ruleByRule: [string, string[]][] = [
    ['iptables', ['--iptables-mode', 'legacy']],
    ['iptables', ['--iptables-mode', 'nft']],
  ];
  const passes = async (backend: string, extra: string[]) => {
    const r = await bench(['verify', '--backend', backend, '--services', '40', '--json', ...extra], { timeoutMs: 120_000 });
    const report = JSON.parse(r.stdout) as Report;
    const failed = report.checks.filter((c) => !c.pass);
    expect(failed, r.stderr).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(report.checks.map((c) => c.name)).toEqual(CHECKS);
    expect(report.syncs.map((s) => s.kind)).toEqual(['full', 'partial']);
    if (extra[0] === '--iptables-mode') expect(report.options.iptablesMode).toBe(extra[1]);
    if (extra[0] === '--kube-proxy') {
      expect(report.options).toMatchObject({ kubeProxy: extra[1] });
      // kube-proxy's per-sync work, timed per phase (a full sync also reads the element stores).
      expect(Object.keys(report.syncs[0]!.phases).sort()).toEqual(['apply', 'list', 'read-elements', 'render', 'stale-delete']);
      expect(Object.keys(report.syncs[1]!.phases).sort()).toEqual(['apply', 'list', 'render', 'stale-delete']);
    }
    expect(r.stderr).toMatch(new RegExp(`${backend}: all 14 checks passed`));
  };
  // Concurrently (at most the e2e project's maxConcurrency at once): each verify builds its own
  // sandbox under its own run id (nothing shared, the root namespace untouched), and a verify mostly
  // waits on probes, so they overlap well. What they leave is checked once all have ended, below.
  it.concurrent.each(cases)('%s %s passes the conformance suite', passes);
  it.each(ruleByRule)('%s %s passes the conformance suite', passes);

  it('every verify above removed its sandbox', () => {
    expect(ourNamespaces()).toEqual([]);
  });

  it('rejects bad flags with exit 2 and creates nothing', async () => {
    const r = await bench(['verify', '--backend', 'bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--backend: unknown backend "bogus"; one of iptables, iptables-restore, nft, ipvs, ebpf/);
    const m = await bench(['verify', '--backend', 'nft', '--iptables-mode', 'fast']);
    expect(m.exitCode).toBe(2);
    expect(m.stderr).toMatch(/--iptables-mode: must be legacy or nft/);
    const k = await bench(['verify', '--backend', 'nft', '--kube-proxy', '1.34']);
    expect(k.exitCode).toBe(2);
    expect(k.stderr).toMatch(/--kube-proxy: must be one of 1\.35, 1\.36, 1\.37, single-map/);
    const o = await bench(['verify', '--backend', 'iptables-restore', '--kube-proxy', '1.36']);
    expect(o.exitCode).toBe(2);
    expect(o.stderr).toMatch(/--kube-proxy: only the nft backend has kube-proxy profiles/);
    // (ipvs on this host kernel: unavailable, exit 1, naming --kernel guest: test/e2e/ipvs-host.test.ts)
    expect(ourNamespaces()).toEqual([]);
  });
});
