// The rendered payloads and commands really load, checked against the kernel (iptables-legacy and
// iptables-nft). Safety: every iptables call runs inside `unshare --net`, a network namespace that
// exists only for that one process tree and vanishes with it; nothing touches the root namespace.
// Needs root (CI runs as root) and the iptables package (scripts' setup installs it).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterState, Endpoint, Service } from '../../src/model/types.js';
import { diffRulesets, formatDifference, parseIptablesSave } from '../../backends/shared/iptables/parse-save.js';
import { ALL_JUMP_RULES, ensureScript } from '../../backends/shared/iptables/jumps.js';
import { renderFull, renderPartial } from '../../backends/shared/iptables/render.js';
import { formatRule } from '../../backends/shared/iptables/ruleset.js';
import type { JumpRule, Ruleset } from '../../backends/shared/iptables/ruleset.js';

const isRoot = process.getuid?.() === 0;
const dir = isRoot ? mkdtempSync(join(tmpdir(), 'svcbench-iptables-load-test-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const shq = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
let fileNo = 0;
function file(text: string): string {
  const path = join(dir, `f${fileNo++}.txt`);
  writeFileSync(path, text);
  return path;
}

/** Run shell steps in one throwaway network namespace and return the final iptables-save output. */
function inThrowawayNetns(bin: string, steps: string[]): string {
  const script = ['set -e', ...steps, `${bin}-save`].join('\n');
  return execFileSync('unshare', ['--net', 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const restore = (bin: string, payload: string): string => `${bin}-restore --noflush < ${shq(file(payload))}`;
const commands = (bin: string, cmds: readonly (readonly string[])[]): string[] => cmds.map((c) => `${bin} ${c.map(shq).join(' ')}`);
/** kube-proxy's EnsureChain + EnsureRule(Prepend), as the backend runs them (its "inserted" lines
 * kept out of the iptables-save output). */
const ensureJumps = (bin: string, jumps: readonly JumpRule[]): string[] => [`{\n${ensureScript(bin, jumps)}} >/dev/null`];

const cfg = { podCidr: '10.0.0.0/8', masqueradeMark: '0x4000', nodeIPs: ['192.168.0.2'] };
const svc = (i: number, extra: Partial<Service> = {}): Service => ({
  namespace: `ns${i}`,
  name: `svc${i}`,
  type: 'ClusterIP',
  clusterIP: `172.30.0.${i}`,
  ports: [{ name: 'p80', protocol: 'TCP', port: 80, targetPort: 8080 }],
  sessionAffinity: 'None',
  stickyMaxAgeSeconds: 10800,
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  ...extra,
});
const np = (i: number): Service['ports'] => [
  { name: 'p80', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30000 + i },
  { name: 'dns', protocol: 'UDP', port: 53, targetPort: 5353, nodePort: 31000 + i },
];
const eps = (i: number, n: number, local = false): Endpoint[] => Array.from({ length: n }, (_, k) => ({ ip: `10.${i}.0.${k + 1}`, local }));

const prev: ClusterState = {
  services: [
    svc(1),
    svc(2, { type: 'NodePort', externalTrafficPolicy: 'Local', ports: np(2) }),
    svc(3, { type: 'NodePort', ports: np(3) }),
    svc(4, { type: 'NodePort', externalTrafficPolicy: 'Local', ports: np(4) }),
    svc(5, { sessionAffinity: 'ClientIP', stickyMaxAgeSeconds: 600 }),
    svc(6),
  ],
  endpoints: {
    'ns1/svc1': eps(1, 3),
    'ns2/svc2': eps(2, 1),
    'ns3/svc3': eps(3, 2),
    'ns4/svc4': [...eps(4, 1, true), ...eps(40, 2)],
    'ns5/svc5': eps(5, 2),
  },
};
const next: ClusterState = {
  services: [...prev.services.filter((s) => s.name !== 'svc3'), svc(7, { type: 'NodePort', ports: np(7) })],
  endpoints: { ...prev.endpoints, 'ns1/svc1': eps(1, 4), 'ns5/svc5': eps(5, 1), 'ns6/svc6': eps(6, 1), 'ns7/svc7': eps(7, 2) },
};

describe.skipIf(!isRoot)('payloads and commands load into the kernel (throwaway netns)', () => {
  for (const bin of ['iptables-legacy', 'iptables-nft']) {
    describe(bin, () => {
      it('full sync: restore payload + jump rules read back without differences', () => {
        const full = renderFull(prev, cfg);
        const saved = inThrowawayNetns(bin, [...ensureJumps(bin, full.jumpRules), restore(bin, full.payload)]);
        expect(diffRulesets(full.desired, parseIptablesSave(saved)).map(formatDifference)).toEqual([]);
      });

      it('partial sync: full payload, then the partial one, equals the next state', () => {
        const full = renderFull(prev, cfg);
        const partial = renderPartial(prev, next, cfg);
        expect(partial.staleChains.length).toBeGreaterThan(0);
        const saved = inThrowawayNetns(bin, [
          ...ensureJumps(bin, full.jumpRules),
          restore(bin, full.payload),
          restore(bin, partial.payload),
        ]);
        expect(diffRulesets(partial.desired, parseIptablesSave(saved)).map(formatDifference)).toEqual([]);
      });

      it('rule by rule: full commands, then the partial ones, equal the next state', () => {
        const full = renderFull(prev, cfg);
        const partial = renderPartial(prev, next, cfg);
        const saved = inThrowawayNetns(bin, [
          ...commands(bin, full.commands),
          ...ensureJumps(bin, full.jumpRules),
          ...commands(bin, partial.commands),
        ]);
        expect(diffRulesets(partial.desired, parseIptablesSave(saved)).map(formatDifference)).toEqual([]);
      });

      it('commits table by table: a payload rejected in nat has committed its filter table (the backend puts it back)', () => {
        const full = renderFull(prev, cfg);
        const partial = renderPartial(prev, next, cfg);
        const bad = partial.payload.replace(/-j KUBE-SVC-\w+\n/, '-j KUBE-NO-SUCH-CHAIN\n');
        expect(bad.indexOf('KUBE-NO-SUCH-CHAIN')).toBeGreaterThan(partial.payload.indexOf('*nat'));
        const rejected = `if ${restore(bin, bad)} 2>/dev/null; then exit 9; fi`;
        const committed = parseIptablesSave(
          inThrowawayNetns(bin, [...ensureJumps(bin, full.jumpRules), restore(bin, full.payload), rejected]),
        );
        // The rendered chains and their rule counts, per table (KUBE-FIREWALL, made by the jump step, aside).
        const ours = (rs: Ruleset, t: 'filter' | 'nat') =>
          rs[t]
            .filter((c) => c.name.startsWith('KUBE-') && c.name !== 'KUBE-FIREWALL')
            .map((c) => `${c.name} ${c.rules.length}`)
            .sort();
        expect(ours(committed, 'filter')).toEqual(ours(partial.desired, 'filter')); // next's filter table…
        expect(ours(committed, 'filter')).not.toEqual(ours(full.desired, 'filter'));
        expect(ours(committed, 'nat')).toEqual(ours(full.desired, 'nat')); // …beside prev's nat table
        const putBack = inThrowawayNetns(bin, [
          ...ensureJumps(bin, full.jumpRules),
          restore(bin, full.payload),
          rejected,
          restore(bin, partial.filterRollback),
        ]);
        expect(diffRulesets(full.desired, parseIptablesSave(putBack)).map(formatDifference)).toEqual([]);
      });

      it('the jump script is idempotent: a second run inserts nothing, every jump is there once', () => {
        const script = ensureScript(bin, ALL_JUMP_RULES);
        const out = execFileSync('unshare', ['--net', 'sh', '-c', `set -e\n${script}echo ---\n${script}echo ---\n${bin}-save`], {
          encoding: 'utf8',
        });
        const [first, second, saved] = out.split('---\n') as [string, string, string];
        expect(first.split('\n').filter((l) => l === 'inserted')).toHaveLength(ALL_JUMP_RULES.length);
        expect(second).toBe('');
        for (const j of ALL_JUMP_RULES) {
          const rule = formatRule(j.srcChain, j.rule);
          expect(saved.split('\n').filter((l) => l === rule)).toHaveLength(1);
        }
      });

      it('large-cluster mode (comments dropped) loads too', () => {
        const big: ClusterState = {
          services: [svc(1), svc(2)],
          endpoints: { 'ns1/svc1': eps(1, 200), 'ns2/svc2': [...eps(2, 250), ...eps(3, 250), ...eps(4, 250), ...eps(5, 60)] },
        };
        const full = renderFull(big, cfg);
        expect(full.largeClusterMode).toBe(true);
        const saved = inThrowawayNetns(bin, [restore(bin, full.payload)]);
        expect(diffRulesets(full.desired, parseIptablesSave(saved), { jumpRules: [] }).map(formatDifference)).toEqual([]);
      });
    });
  }
});
