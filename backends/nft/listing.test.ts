// Parsing of the per-sync listings against real `nft --json` output (nft 1.0.6, Debian 12),
// captured by scripts/bench-listing.ts --capture from a 3-service table of the nft backend plus
// objects every listing must leave out: another table of the family (svcb-other), an anonymous
// set in a kube-proxy rule and a named map (svcb-named-map).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandError, type Command, type Exec, type ExecResult } from '../../src/exec/index.js';
import type { NodeTarget } from '../types.js';
import { listTable, parseElements, parseListing, readElements } from './listing.js';
import { ReadbackError } from './readback.js';

const data = (name: string): string => readFileSync(new URL(`./testdata/listing/${name}`, import.meta.url), 'utf8');

const CHAINS = [
  'cluster-ips-check',
  'endpoint-HKZCEMFX-bench/svc-1/tcp/http__10.244.0.6/8080',
  'filter-forward',
  'masquerading',
  'nat-output',
  'services',
  'svcb-extra',
];

/** An exec answering `nft --json …` from the testdata; unknown commands fail as nft does. */
function fakeExec(files: Record<string, string>): Exec & { commands: Command[] } {
  const commands: Command[] = [];
  return {
    observe: (read) => read(),
    alter: async (_change, instead) => instead(),
    commands,
    run: async (cmd: Command): Promise<ExecResult> => {
      commands.push(cmd);
      const key = cmd.argv.join(' ');
      const file = files[key];
      if (file === undefined) throw new CommandError(cmd, 1, 'Error: No such file or directory\n');
      return { stdout: data(file), stderr: '', exitCode: 0, durationMs: 0 };
    },
    start: () => {
      throw new Error('not used');
    },
  };
}

const target = (exec: Exec): NodeTarget => ({
  exec,
  netns: 'svcb-test00-node',
  cfg: { podCidr: '10.244.0.0/16', masqueradeMark: '0x4000', nodeIPs: ['198.18.0.1'] },
  options: { iptablesMode: 'legacy', syncTimeoutMs: 1000 },
});

describe('parseListing', () => {
  it('keeps the kube-proxy table of `list chains ip` (every table of the family)', () => {
    const l = parseListing(data('list-chains-ip.json'));
    expect(l.chains).toHaveLength(29);
    for (const c of CHAINS) expect(l.chains).toContain(c);
    expect(l.chains).not.toContain('other-chain');
    expect(l.chains).toEqual([...l.chains].sort());
  });

  it('keeps named sets only: not maps, not other tables', () => {
    expect(parseListing(data('list-sets-ip.json')).sets).toEqual(['cluster-ips', 'svcb-named-set']);
  });

  it('reads chains and sets of one --terse table listing, the same as the two family listings', () => {
    const terse = parseListing(data('list-table-terse.json'));
    expect(terse.sets).toEqual(['cluster-ips', 'svcb-named-set']);
    expect(terse.chains).toEqual(parseListing(data('list-chains-ip.json')).chains);
  });

  it('rejects output that is not JSON or whose chain lacks a name', () => {
    expect(() => parseListing('nope')).toThrow(ReadbackError);
    expect(() => parseListing('{"nftables":[{"chain":{"family":"ip","table":"kube-proxy"}}]}')).toThrow(/nftables\[0\] \(chain\).*name/);
    expect(() => parseListing('{"nft":[]}')).toThrow(ReadbackError);
  });
});

describe('parseElements', () => {
  it('reads a set', () => {
    expect(parseElements(data('list-set-cluster-ips.json'), 'cluster-ips')).toEqual(['10.96.0.10', '10.96.0.11', '10.96.0.12']);
  });
  it('reads a verdict map as key : verdict', () => {
    expect(parseElements(data('list-map-service-ips.json'), 'service-ips')).toEqual([
      '10.96.0.10 . tcp . 80 : goto service-O6UKKYV4-bench/svc-0/tcp/http',
      '10.96.0.11 . tcp . 80 : goto service-VQYK2AJF-bench/svc-1/tcp/http',
      '10.96.0.12 . tcp . 80 : goto service-JMMF2ETN-bench/svc-2/tcp/http',
    ]);
  });
  it('reads an empty map as no elements', () => {
    expect(parseElements(data('list-map-firewall-ips.json'), 'firewall-ips')).toEqual([]);
  });
  it('fails on a listing of another store', () => {
    expect(() => parseElements(data('list-set-cluster-ips.json'), 'service-ips')).toThrow(/no set or map of that name/);
  });
});

describe('listTable and readElements through the exec port', () => {
  const files = {
    'nft --json list chains ip': 'list-chains-ip.json',
    'nft --json list sets ip': 'list-sets-ip.json',
    'nft --json --terse list table ip kube-proxy': 'list-table-terse.json',
    'nft --json list set ip kube-proxy cluster-ips': 'list-set-cluster-ips.json',
    'nft --json list map ip kube-proxy service-ips': 'list-map-service-ips.json',
  };

  it('1.35: two family listings in the node namespace', async () => {
    const exec = fakeExec(files);
    const l = await listTable(target(exec), 'nft-chains-sets');
    expect(exec.commands.map((c) => [c.netns, c.argv.join(' ')])).toEqual([
      ['svcb-test00-node', 'nft --json list chains ip'],
      ['svcb-test00-node', 'nft --json list sets ip'],
    ]);
    expect(l.sets).toEqual(['cluster-ips', 'svcb-named-set']);
  });

  it('1.36: one terse table listing', async () => {
    const exec = fakeExec(files);
    const l = await listTable(target(exec), 'nft-terse');
    expect(exec.commands.map((c) => c.argv.join(' '))).toEqual(['nft --json --terse list table ip kube-proxy']);
    expect(l.chains).toHaveLength(29);
  });

  it('a missing table lists as empty, as knftables.IsNotFound', async () => {
    expect(await listTable(target(fakeExec({})), 'nft-terse')).toEqual({ chains: [], sets: [] });
    expect(await listTable(target(fakeExec({})), 'nft-chains-sets')).toEqual({ chains: [], sets: [] });
  });

  it('reads each store with list set or list map by its kind; a missing store has no elements', async () => {
    const exec = fakeExec(files);
    const els = await readElements(target(exec), ['cluster-ips', 'service-ips', 'nodeport-ips']);
    expect(exec.commands.map((c) => c.argv.slice(2).join(' '))).toEqual([
      'list set ip kube-proxy cluster-ips',
      'list map ip kube-proxy service-ips',
      'list set ip kube-proxy nodeport-ips',
    ]);
    expect(els.get('cluster-ips')).toHaveLength(3);
    expect(els.get('service-ips')).toHaveLength(3);
    expect(els.get('nodeport-ips')).toEqual([]);
  });
});
