// The listings kube-proxy's nftables mode makes on every sync, by profile
// (../shared/reference/kube-proxy-nftables-versions.md §2):
// - 'nft-chains-sets' (kube-proxy ≤ 1.35): `nft --json list chains ip` and `nft --json list sets ip`,
//   which print every table of the family; kube-proxy keeps its own table's names
//   (proxier.go: List(ctx, "chains") for stale service chains, List(ctx, "sets") for stale
//   affinity sets);
// - 'nft-terse' (1.36, #137501): one `nft --json --terse list table ip kube-proxy` (knftables
//   ListAll / List at v0.0.22: "restrict nft to looking only at our table");
// - 'netlink' (1.37, NFTablesNetlink gate, #137536): two netlink dumps (netlink.ts).
// And on a full sync, per element store: `nft --json list set|map ip kube-proxy NAME` (knftables
// ListElements, which kube-proxy's full sync uses to find stale elements).
//
// Every method returns the same thing: the table's chain names and its named sets (not maps, not
// the anonymous sets nft creates for literal sets in rules), each sorted.

import { z } from 'zod';
import type { NodeTarget } from '../types.js';
import { CommandError } from '../../src/exec/index.js';
import { nftElementsOutput, nftListingOutput, nftNamed } from './listing-schema.js';
import { netlinkListTable } from './netlink.js';
import { ReadbackError, valueText, verdictText } from './readback.js';
import type { NftSetElem } from './schema.js';

export type ListingMethod = 'nft-chains-sets' | 'nft-terse' | 'netlink';
export const LISTING_METHODS: readonly ListingMethod[] = ['nft-chains-sets', 'nft-terse', 'netlink'];

export interface TableListing {
  chains: string[];
  sets: string[];
}

const FAMILY = 'ip';
const TABLE = 'kube-proxy';

/** kube-proxy's element stores and their kinds (proxier.go: clusterIPsSet, nodePortIPsSet are
 * sets; the others verdict maps), for readElements callers that pass plain names. */
export const ELEMENT_STORES: Readonly<Record<string, 'set' | 'map'>> = {
  'cluster-ips': 'set',
  'nodeport-ips': 'set',
  'service-ips': 'map',
  'service-nodeports': 'map',
  'no-endpoint-services': 'map',
  'no-endpoint-nodeports': 'map',
  'firewall-ips': 'map',
};

/** nft's message when the table (or a set) is absent: kube-proxy treats it as "nothing listed"
 * (knftables.IsNotFound). */
const notFound = (e: unknown): boolean => e instanceof CommandError && /No such file or directory/.test(e.stderr);

/** Parses one `nft --json` listing and returns the names of `table`'s chains and named sets. */
export function parseListing(json: string, table = TABLE, family = FAMILY): TableListing {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ReadbackError(`nft --json listing is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const res = nftListingOutput.safeParse(raw);
  if (!res.success)
    throw new ReadbackError(`nft --json listing: ${z.prettifyError(res.error).replaceAll('\n', '; ')}`, { cause: res.error });
  const chains: string[] = [];
  const sets: string[] = [];
  res.data.nftables.forEach((obj, i) => {
    const kind = 'chain' in obj ? 'chain' : 'set' in obj ? 'set' : undefined;
    if (kind === undefined) return; // metainfo, table, rule, map, …
    const named = nftNamed.safeParse(obj[kind]);
    if (!named.success)
      throw new ReadbackError(`nft --json listing: nftables[${i}] (${kind}): ${z.prettifyError(named.error).replaceAll('\n', '; ')}`, {
        cause: named.error,
      });
    const { data } = named;
    if (data.family !== family || data.table !== table) return;
    (kind === 'chain' ? chains : sets).push(data.name);
  });
  return { chains: chains.sort(), sets: sets.sort() };
}

async function nftJson(target: NodeTarget, args: string[]): Promise<string | undefined> {
  try {
    const out = await target.exec.run({ netns: target.netns, argv: ['nft', '--json', ...args] });
    // Empty output (the dry-run exec's answer) lists nothing, as a table that does not exist.
    return out.stdout.trim() === '' ? undefined : out.stdout;
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

const empty = (): TableListing => ({ chains: [], sets: [] });

/** Lists the kube-proxy table's chains and named sets the way the given kube-proxy line does. */
export async function listTable(target: NodeTarget, method: ListingMethod): Promise<TableListing> {
  switch (method) {
    case 'nft-chains-sets': {
      const chains = await nftJson(target, ['list', 'chains', FAMILY]);
      const sets = await nftJson(target, ['list', 'sets', FAMILY]);
      return {
        chains: chains === undefined ? [] : parseListing(chains).chains,
        sets: sets === undefined ? [] : parseListing(sets).sets,
      };
    }
    case 'nft-terse': {
      const out = await nftJson(target, ['--terse', 'list', 'table', FAMILY, TABLE]);
      return out === undefined ? empty() : parseListing(out);
    }
    case 'netlink': {
      // The kernel itself, asked without a command: only a real exec does that (alter); the fake and
      // dry-run execs have no kernel behind them and list nothing.
      return target.exec.alter(async () => netlinkListTable(target.netns, { family: FAMILY, table: TABLE }), empty);
    }
  }
}

/** One element as text: a set's key ("10.96.0.1"), a map's "key : value" ("10.96.0.1 . tcp . 80 : goto service-…"). */
const elemText = (e: NftSetElem): string => valueText(typeof e === 'object' && 'elem' in e ? e.elem.val : e);

/** Parses `nft --json list set|map ip TABLE NAME`: the elements as text, in nft's order. */
export function parseElements(json: string, name: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ReadbackError(`nft --json list of ${name} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const res = nftElementsOutput.safeParse(raw);
  if (!res.success)
    throw new ReadbackError(`nft --json list of ${name}: ${z.prettifyError(res.error).replaceAll('\n', '; ')}`, { cause: res.error });
  for (const obj of res.data.nftables) {
    if ('set' in obj && obj.set.name === name) return (obj.set.elem ?? []).map(elemText);
    if ('map' in obj && obj.map.name === name) return (obj.map.elem ?? []).map(([k, v]) => `${elemText(k)} : ${verdictText(v)}`);
  }
  throw new ReadbackError(`nft --json list of ${name}: no set or map of that name in the output`);
}

/** A store to read: a plain name (its kind from ELEMENT_STORES, else 'set'), or name and kind. */
export type ElementStore = string | { name: string; kind: 'set' | 'map' };

/**
 * kube-proxy's full-sync element reads: one `nft --json list set|map ip kube-proxy NAME` per
 * store, one after the other (knftables ListElements). A store that does not exist reads as no
 * elements (knftables.IsNotFound).
 */
export async function readElements(target: NodeTarget, stores: readonly ElementStore[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const s of stores) {
    const { name, kind } = typeof s === 'string' ? { name: s, kind: ELEMENT_STORES[s] ?? 'set' } : s;
    const json = await nftJson(target, ['list', kind, FAMILY, TABLE, name]);
    out.set(name, json === undefined ? [] : parseElements(json, name));
  }
  return out;
}
