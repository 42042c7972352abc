import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSchema, type RunJson } from '../run/results.js';
import { summarizeRun } from '../run/summary.js';
import { clusterFindings, crossCosts, pathEvidence } from './cluster.js';
import { pathsCsv } from './csv.js';
import { renderReports } from './write.js';

// testdata/nodes is a real two-node run (its README): nft and ebpf over every path, with what the
// servers saw of each check and the sandbox's topology.

const load = (dir: string): RunJson =>
  runSchema.parse(JSON.parse(readFileSync(join(import.meta.dirname, 'testdata', dir, 'run.json'), 'utf8')));
const T = '2026-01-02T03:04:05.000Z';
const run = load('nodes');
const groups = summarizeRun(run);
const nft = run.backends.find((b) => b.name.startsWith('nft'))!.name;
const ev = (backend: string, path: string) => pathEvidence(run, groups).find((e) => e.backend === backend && e.path === path)!;

describe('what the servers saw, read against the topology', () => {
  it('NodePort with policy Cluster to another node: SNAT to node 0, two hops', () => {
    const e = ev(nft, 'nodeport-remote');
    expect(e).toMatchObject({ policy: 'Cluster', clientIp: 'replaced', entered: ['node 0'], endpointNodes: ['node 1'], hops: [[2, 2]] });
    expect(e.peers).toEqual([{ peer: '198.18.0.1', who: "node 0's IP", count: 2 }]);
  });

  it('NodePort with policy Local: the client address kept, one hop', () => {
    const e = ev(nft, 'nodeport-local');
    expect(e).toMatchObject({ policy: 'Local', clientIp: 'kept', entered: ['node 1'], hops: [[1, 2]] });
    expect(e.peers[0]!.who).toBe('the client');
  });

  it('NodePort on the node holding the endpoint: one hop, masqueraded to the node gateway', () => {
    const e = ev(nft, 'nodeport');
    expect(e).toMatchObject({ clientIp: 'replaced', hops: [[1, 2]] });
    expect(e.peers[0]!.who).toBe("the forwarding node's pod-side address");
  });

  it('skipped cases have no checks and keep their reason', () => {
    const e = ev('ebpf', 'nodeport-remote');
    expect(e.checks).toBe(0);
    expect(e.state).toBe('skipped 2/2');
    expect(e.reason).toMatch(/cannot forward NodePort to another node/);
  });
});

describe('findings', () => {
  const f = clusterFindings(run, groups);

  it('asks the three questions', () => {
    expect(f.map((x) => x.question)).toEqual([
      'Does NodePort add a hop?',
      'Is the client IP preserved?',
      'What does crossing to another node cost, per backend?',
    ]);
  });

  it('say per backend and policy what the evidence shows, and why a case has none', () => {
    const [hop, ip] = f;
    const nftHop = hop!.answers.find((a) => a.startsWith(nft))!;
    expect(nftHop).toMatch(
      /nodeport-remote \(policy Cluster\): yes, one extra hop: .*\(2 hops in all 2 checks; entered at node 0, answered on node 1\)/,
    );
    expect(nftHop).toMatch(/nodeport-local \(policy Local\): no extra hop/);
    expect(hop!.answers.find((a) => a.startsWith('ebpf'))).toMatch(
      /nodeport-remote \(policy Cluster\): no check answered \(skipped 2\/2: ebpf cannot/,
    );
    expect(ip!.answers.find((a) => a.startsWith(nft))).toMatch(
      /nodeport-remote \(policy Cluster\): no \(the server saw 198\.18\.0\.1 \(node 0's IP\) in 2 of 2, the client sent from 198\.18\.0\.2\)/,
    );
  });

  it('cost each cross-node path against its same-node one, paired, and says why one is missing', () => {
    const cross = crossCosts(run, groups);
    expect(cross.map((x) => `${x.backend} ${x.path}/${x.against}`)).toEqual([
      'ebpf pod-remote/pod',
      'ebpf clusterip-remote/clusterip',
      'ebpf nodeport-remote/nodeport',
      `${nft} pod-remote/pod`,
      `${nft} clusterip-remote/clusterip`,
      `${nft} nodeport-remote/nodeport`,
    ]);
    const x = cross.find((c) => c.backend === nft && c.path === 'pod-remote')!;
    expect(x.ratios.map((r) => r.paired)).toEqual([true, true]);
    expect(cross.find((c) => c.backend === 'ebpf' && c.path === 'nodeport-remote')!.missing).toMatch(/nodeport-remote skipped 2\/2/);
  });

  it('nothing to say about a run without checks seen or cross-node paths', () => {
    const old = load('run');
    expect(clusterFindings(old, summarizeRun(old))).toEqual([]);
  });

  it('a run without a recorded topology says so instead of guessing whose address it was', () => {
    const bare = structuredClone(run);
    for (const b of bare.backends) delete b.topology;
    for (const c of bare.cases) for (const s of c.seen ?? []) delete s.client;
    const [, ip] = clusterFindings(bare, summarizeRun(bare));
    expect(ip!.answers.find((a) => a.startsWith(nft))).toMatch(
      /nodeport-remote \(policy Cluster\): not recorded \(the server saw 198\.18\.0\.1 \(whose address this run did not record\)/,
    );
  });
});

describe('reports', () => {
  it('paths.csv, report.md and the cross-node chart (snapshots), only for runs that have them', async () => {
    const files = (await renderReports(run, { generatedAt: T })).files;
    expect(files.has('paths.csv')).toBe(true);
    expect(files.has('charts/cross-node.svg')).toBe(true);
    await expect(pathsCsv(run, groups)).toMatchFileSnapshot('__snapshots__/nodes/paths.csv');
    const md = files.get('report.md')!;
    const section = md.slice(md.indexOf('### Does NodePort add a hop?'), md.indexOf('## Results per scenario'));
    await expect(section).toMatchFileSnapshot('__snapshots__/nodes/findings.md');
    expect(files.get('report.html')).toContain('<h2 id="what-the-servers-saw">What the servers saw</h2>');
    expect(files.get('report.html')).toContain('id="chart-cross-node"');
    const old = (await renderReports(load('run'), { generatedAt: T })).files;
    expect(old.has('paths.csv')).toBe(false);
    expect(old.has('charts/cross-node.svg')).toBe(false);
  }, 60_000);
});
