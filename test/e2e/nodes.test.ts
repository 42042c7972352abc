import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, isRoot, leavesNothingBehind, ourNamespaces } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
const nodesDir = tempDirs('svcbench-nodes-');

// More than one node (issue 18): bench verify's cross-node checks for every backend that runs on
// this kernel, and bench run's cross-node paths with the peer address and hops the servers saw.

const CROSS_NODE = [
  'pod-remote: a pod on another node, one more hop',
  'clusterip-remote: the client pod keeps its address, one more hop',
  'nodeport-remote: Cluster policy SNATs to the node IP, one more hop',
  "nodeport: on the endpoint's node, no extra hop",
  'nodeport-local: Local policy keeps the client IP, no extra hop',
  'nodeport-local-miss: Local policy on a node without a local endpoint does not answer',
  "internaltrafficpolicy-local: only the client node's endpoints answer",
  'internaltrafficpolicy-local-miss: no endpoint on the client node, no answer',
];

interface Report {
  checks: { name: string; pass: boolean; detail: string; skipped?: true }[];
}

describe.runIf(isRoot)('more than one node', { timeout: 300_000 }, () => {
  leavesNothingBehind();

  const cases: [string, string[]][] = [
    ['iptables-restore', ['--iptables-mode', 'legacy']],
    ['iptables-restore', ['--iptables-mode', 'nft']],
    ['nft', []],
    ['nft', ['--kube-proxy', '1.35']],
    ['nft', ['--kube-proxy', '1.36']],
    ['nft', ['--kube-proxy', 'single-map']],
    ['ebpf', []],
  ];
  const passes = async (backend: string, extra: string[]) => {
    const r = await bench(['verify', '--backend', backend, '--nodes', '3', '--json', ...extra], { timeoutMs: 180_000 });
    const report = JSON.parse(r.stdout) as Report;
    expect(
      report.checks.filter((c) => !c.pass),
      r.stderr,
    ).toEqual([]);
    expect(r.exitCode).toBe(0);
    const cross = report.checks.filter((c) => CROSS_NODE.includes(c.name));
    expect(cross.map((c) => c.name)).toEqual(CROSS_NODE);
    // Every backend, eBPF's tc program included, SNATs NodePort traffic to node 0's IP when the
    // endpoint is on another node, and that node is one more hop.
    expect(report.checks.filter((c) => c.skipped)).toEqual([]);
    expect(cross.find((c) => c.name.startsWith('nodeport-remote'))!.detail).toMatch(/which saw 198\.18\.0\.1 at TTL 62 \(2 hop\(s\)\)$/);
    expect(cross.find((c) => c.name.startsWith('nodeport-local:'))!.detail).toMatch(/which saw 198\.18\.0\.2 at TTL 63/);
  };
  // Concurrently (at most the e2e project's maxConcurrency at once; each its own sandbox and run
  // id, see verify.test.ts), with the bench run below; what they leave is checked once all have
  // ended, by the last test. The rule-by-rule iptables backend takes the host-wide xtables lock per
  // rule and stops when its pace cannot fit --sync-timeout: it runs alone, after them.
  it.concurrent.each(cases)('bench verify --backend %s %s --nodes 3 passes, cross-node checks included', passes);

  it.concurrent('bench run --nodes 2 --backend nft,ebpf measures the cross-node paths and records what the servers saw', async () => {
    const out = nodesDir();
    const paths = 'pod,pod-remote,clusterip-remote,nodeport-remote,nodeport-local,nodeport-local-miss';
    const r = await bench(
      [
        'run',
        '--nodes',
        '2',
        '--backend',
        'nft,ebpf',
        '--path',
        paths,
        '--workload',
        'tcp-crr',
        '--services',
        '20',
        '--repeat',
        '1',
      ].concat(['--ci-target', '0', '--duration', '0.5', '--warmup', '0.2', '--sync-iterations', '0', '--seed', '1', '--out', out]),
      { timeoutMs: 240_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const dir = join(out, readdirSync(out)[0]!);
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
      cases: { backend: string; path: string; state: string; reason?: string; seen?: { peer: string; hops: number | null }[] }[];
      backends: { topology?: { nodes: { ip: string }[]; external: string } }[];
    };
    // Both backends (nft labelled with its kube-proxy line, "nft (1.37)") see the same: eBPF's tc
    // program SNATs nodeport-remote to node 0's IP as nft does.
    for (const backend of ['nft', 'ebpf']) {
      const byPath = Object.fromEntries(run.cases.filter((c) => c.backend.split(' ')[0] === backend).map((c) => [c.path, c]));
      for (const p of ['pod', 'pod-remote', 'clusterip-remote', 'nodeport-remote', 'nodeport-local'])
        expect(byPath[p], `${backend} ${p}: ${byPath[p]?.reason}`).toMatchObject({ state: 'completed' });
      expect(byPath['nodeport-local-miss']).toMatchObject({
        state: 'skipped',
        reason: expect.stringMatching(/not answered, as it must not be/),
      });
      // The client pod is 10.244.0.4 on node 0 (--endpoints 3, spread: srv-0, srv-2 on node 0, srv-1 on node 1).
      expect(byPath['pod-remote']!.seen).toEqual([
        { peer: '10.244.0.4', hops: 2, client: '10.244.0.4', to: expect.any(String), by: 'srv-1' },
      ]);
      expect(byPath['clusterip-remote']!.seen).toMatchObject([{ peer: '10.244.0.4', hops: 2, client: '10.244.0.4', by: 'srv-1' }]);
      expect(byPath['nodeport-remote']!.seen).toEqual([
        { peer: '198.18.0.1', hops: 2, client: '198.18.0.2', to: '198.18.0.1', by: 'srv-1' },
      ]);
      expect(byPath['nodeport-local']!.seen).toEqual([
        { peer: '198.18.0.2', hops: 1, client: '198.18.0.2', to: '198.18.0.3', by: 'srv-1' },
      ]);
      expect(byPath['pod']!.seen!.map((s) => s.hops).sort()).toEqual([1, 1, 2]);
    }
    expect(run.backends[0]!.topology).toMatchObject({ nodes: [{ ip: '198.18.0.1' }, { ip: '198.18.0.3' }], external: '198.18.0.2' });
    // The reports answer from that evidence (src/report/cluster.ts).
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/nodeport-remote \(policy Cluster\): yes, one extra hop/);
    expect(md).toMatch(/nodeport-local \(policy Local\): yes \(the server saw 198\.18\.0\.2 \(the client\)/);
    expect(readFileSync(join(dir, 'paths.csv'), 'utf8')).toMatch(
      /^nft \(1\.37\),\S*,pod-remote,tcp-crr,20,,1,10\.244\.0\.4,node 0,srv-1,node 1,.*,pod,/m,
    );
  });

  it.each([['iptables', ['--iptables-mode', 'legacy']]] as [string, string[]][])(
    'bench verify --backend %s %s --nodes 3 passes, cross-node checks included',
    passes,
  );

  it('every verify and run above removed its sandbox', () => {
    expect(ourNamespaces()).toEqual([]);
  });
});
