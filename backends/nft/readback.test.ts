import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cfg, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import { ReadbackError, diff, diffRuleText, parseListingRules, parseNftJson, readback, valueText, verdictText } from './readback.js';
import * as render from './render.js';

// The fixtures are listings of the 1.35 layout.
const renderFull = (s: Parameters<typeof render.renderFull>[0], c: typeof cfg) => render.renderFull(s, c, { profile: '1.35' });
const describeTable = (s: Parameters<typeof render.describe>[0], c: typeof cfg) => render.describe(s, c, '1.35');
import { nftListOutput } from './schema.js';
import type { TableDesc } from './table.js';

// Real output of nft 1.0.6 (Debian 12) in a throwaway namespace
// (`unshare --net sh -c 'nft -f … && nft -j list table ip kube-proxy'`): small-full is
// renderFull(smallState), small-next is the same after renderPartial(smallState, smallStateNext).
const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const fullJson = fixture('small-full.json');
const nextJson = fixture('small-next.json');

/** A deep copy of a description, to corrupt in tests. */
function clone(t: TableDesc): TableDesc {
  return {
    ...t,
    chains: new Map([...t.chains].map(([k, c]) => [k, { ...c, rules: [...c.rules] }])),
    sets: new Map([...t.sets].map(([k, s]) => [k, { ...s, flags: [...s.flags], elements: new Map(s.elements) }])),
  };
}

describe('schema', () => {
  it('accepts real nft -j output', () => {
    const parsed = nftListOutput.parse(JSON.parse(fullJson));
    const kinds = parsed.nftables.map((o) => Object.keys(o)[0]);
    expect(kinds[0]).toBe('metainfo');
    expect(new Set(kinds)).toEqual(new Set(['metainfo', 'table', 'set', 'map', 'chain', 'rule']));
    expect(nftListOutput.safeParse(JSON.parse(nextJson)).success).toBe(true);
  });

  it('types chains, sets and maps, including nft 1.0.6 element forms', () => {
    const parsed = parseNftJson(fullJson).nftables;
    const chain = parsed.find((o) => 'chain' in o && (o.chain as { name: string }).name === 'nat-prerouting');
    expect(chain).toEqual({
      chain: {
        family: 'ip',
        table: 'kube-proxy',
        name: 'nat-prerouting',
        handle: expect.any(Number),
        type: 'nat',
        hook: 'prerouting',
        prio: -100,
        policy: 'accept',
      },
    });
    const noEp = parsed.find((o) => 'map' in o && (o.map as { name: string }).name === 'no-endpoint-services') as {
      map: { elem: unknown[] };
    };
    // An element with a comment is wrapped: [{elem:{val:{concat:[…]},comment}}, {goto:{target}}].
    expect(noEp.map.elem[0]).toEqual([
      { elem: { val: { concat: ['172.30.0.45', 'tcp', 80] }, comment: 'ns5/svc5:p80' } },
      { goto: { target: 'reject-chain' } },
    ]);
    const affinity = parsed.find((o) => 'set' in o && (o.set as { name: string }).name.startsWith('affinity-')) as {
      set: Record<string, unknown>;
    };
    expect(affinity.set).toMatchObject({ type: 'ipv4_addr', flags: ['timeout'], timeout: 10800 }); // "dynamic" is not printed
  });

  it('rejects malformed objects with a message naming the object', () => {
    const json = JSON.parse(fullJson) as { nftables: Array<Record<string, Record<string, unknown>>> };
    const i = json.nftables.findIndex((o) => o.chain?.name === 'nat-output');
    (json.nftables[i] as { chain: Record<string, unknown> }).chain.prio = 'dstnat';
    expect(() => parseNftJson(json)).toThrow(new RegExp(`nftables\\[${i}\\] \\(chain\\).*prio`));
    expect(() => parseNftJson('{"nftables": [{"map": {"name": "x"}}]}')).toThrow(ReadbackError);
    expect(() => parseNftJson('not json')).toThrow(/not JSON/);
    expect(() => parseNftJson({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }] })).not.toThrow();
  });

  it('formats element keys and verdicts as nft writes them', () => {
    expect(valueText({ concat: ['172.30.0.41', 'tcp', 80] })).toBe('172.30.0.41 . tcp . 80');
    expect(valueText({ prefix: { addr: '10.0.0.0', len: 8 } })).toBe('10.0.0.0/8');
    expect(valueText({ range: [1000, 2000] })).toBe('1000-2000');
    expect(verdictText({ goto: { target: 'reject-chain' } })).toBe('goto reject-chain');
    expect(verdictText({ drop: null })).toBe('drop');
  });
});

describe('readback', () => {
  it('reads back exactly the table renderFull described', () => {
    const installed = readback(fullJson);
    expect(diff(renderFull(smallState, cfg).desired, installed)).toEqual([]);
    expect(installed.sets.get('service-ips')?.elements.get('172.30.0.42 . tcp . 80')).toBe('goto service-42NFTM6N-ns2/svc2/tcp/p80');
    expect(installed.sets.get('cluster-ips')?.elements.size).toBe(5);
    expect(installed.chains.get('filter-input')?.rules).toEqual(['jump nodeport-endpoints-check', 'jump service-endpoints-check']);
  });

  it('reads back the table after a partial sync', () => {
    expect(diff(describeTable(smallStateNext, cfg), readback(nextJson))).toEqual([]);
    expect(diff(describeTable(smallState, cfg), readback(nextJson)).length).toBeGreaterThan(5);
  });

  it('reports each kind of difference readably', () => {
    const desired = describeTable(smallState, cfg);
    const installed = clone(readback(fullJson));
    installed.chains.delete('endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80');
    installed.chains.set('service-STALE000-ns9/svc9/tcp/p80', { name: 'service-STALE000-ns9/svc9/tcp/p80', rules: [] });
    installed.chains.get('masquerading')?.rules.pop();
    const svc = installed.chains.get('service-ULMVA6XW-ns1/svc1/tcp/p80');
    if (svc !== undefined) svc.rules[1] = 'goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80';
    const nat = installed.chains.get('nat-output');
    if (nat?.base !== undefined) nat.base = { ...nat.base, priority: 0 };
    const sips = installed.sets.get('service-ips')?.elements;
    sips?.set('172.30.0.41 . tcp . 80', 'goto reject-chain');
    sips?.delete('172.30.0.42 . tcp . 80');
    sips?.set('172.30.0.99 . tcp . 80', 'drop');
    installed.sets.delete('no-endpoint-nodeports');
    expect(diff(desired, installed)).toEqual([
      'chain nat-output: is type nat hook output priority 0 policy accept, want type nat hook output priority -100 policy accept',
      'chain masquerading: 2 rules, want 3',
      'chain endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80: missing',
      'chain service-ULMVA6XW-ns1/svc1/tcp/p80: rule 2 jumps to [endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80], want [endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80, endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80] (numgen random mod 2 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80, 1 : goto endpoint-2ZNDXFAB-ns1/svc1/tcp/p80__10.180.0.2/80 })',
      'chain service-STALE000-ns9/svc9/tcp/p80: unexpected',
      'map no-endpoint-nodeports: missing',
      'map service-ips: element 172.30.0.41 . tcp . 80 maps to goto reject-chain, want goto service-ULMVA6XW-ns1/svc1/tcp/p80',
      'map service-ips: missing element { 172.30.0.42 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80 }',
      'map service-ips: unexpected element { 172.30.0.99 . tcp . 80 : drop }',
    ]);
    expect(diff(desired, installed, { max: 2 })).toHaveLength(2);
  });

  it('ignores datapath-added elements of dynamic sets but compares their declaration', () => {
    const desired = describeTable(smallState, cfg);
    const installed = clone(readback(fullJson));
    const name = 'affinity-CJNO4NV4-ns2/svc2/tcp/p80__10.180.0.3/8080';
    const set = installed.sets.get(name);
    set?.elements.set('203.0.113.7', '');
    expect(diff(desired, installed)).toEqual([]);
    if (set !== undefined) set.timeout = 60;
    expect(diff(desired, installed)).toEqual([`set ${name}: timeout 60, want 10800`]);
  });

  it('fails clearly when the table is absent', () => {
    expect(() => readback({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }] })).toThrow(
      /table ip kube-proxy is not in/,
    );
  });
});

describe('text listing', () => {
  it('matches the rendered rule texts exactly (render writes rules as nft lists them)', () => {
    const listed = parseListingRules(fixture('small-full.txt'));
    expect(listed.get('reject-chain')).toEqual(['reject']);
    expect(listed.get('nat-prerouting')).toEqual(['jump services']);
    expect(diffRuleText(renderFull(smallState, cfg).desired, listed)).toEqual([]);
    expect(diffRuleText(describeTable(smallStateNext, cfg), parseListingRules(fixture('small-next.txt')))).toEqual([]);
  });
});
