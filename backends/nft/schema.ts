// zod schemas for `nft -j list table ip kube-proxy` (libnftables JSON, json_schema_version 1),
// as printed by nft 1.0.6 (Debian 12). See libnftables-json(5) and nftables src/json.c.
//
// Typed: the list wrapper, metainfo, tables, chains (type/hook/prio/policy), sets and maps
// (type, map, flags, timeout, elem). Loosely typed: rule expressions (records of unknown),
// which are verbose and not needed for the readback comparison.
//
// nft 1.0.6 quirks these schemas accept (measured in a throwaway namespace):
// - the table's and chains' comments are not printed in JSON (rules' comments are);
// - set "flags" omit "dynamic" (the text listing shows "flags dynamic,timeout", JSON ["timeout"]);
// - an element is a plain value ("172.30.0.41", 80), {concat:[…]}, {prefix:{addr,len}},
//   {range:[a,b]}, or wrapped as {elem:{val, timeout, expires, comment}} when it carries a
//   comment or a timeout;
// - a map element is a [key, value] pair; a verdict value is {goto:{target}}, {jump:{target}},
//   or {drop:null}/{accept:null}/{continue:null}/{return:null};
// - a set or map without elements has no "elem" key at all.

import { z } from 'zod';

const scalar = z.union([z.string(), z.number()]);
const prefix = z.object({ prefix: z.object({ addr: z.string(), len: z.number().int() }) });
const range = z.object({ range: z.tuple([scalar, scalar]) });
const atom = z.union([scalar, prefix, range]);
const concat = z.object({ concat: z.array(atom).min(1) });
/** An element key or a non-verdict map value. */
export const nftValue = z.union([atom, concat]);

/** {elem:{val,…}}: an element with per-element data (comment, timeout, expiry, counter). */
const wrappedElem = z.object({
  elem: z.looseObject({
    val: nftValue,
    timeout: z.number().optional(),
    expires: z.number().optional(),
    comment: z.string().optional(),
  }),
});
export const nftSetElem = z.union([nftValue, wrappedElem]);

const target = z.object({ target: z.string() });
export const nftVerdict = z.union([
  z.object({ goto: target }),
  z.object({ jump: target }),
  z.object({ drop: z.null() }),
  z.object({ accept: z.null() }),
  z.object({ continue: z.null() }),
  z.object({ return: z.null() }),
]);
export const nftMapElem = z.tuple([nftSetElem, z.union([nftVerdict, nftValue])]);

const family = z.enum(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);
const flagList = z.union([z.string(), z.array(z.string())]).transform((f) => (typeof f === 'string' ? [f] : f));

export const nftMetainfo = z.looseObject({
  version: z.string(),
  release_name: z.string().optional(),
  json_schema_version: z.number().int(),
});

export const nftTable = z.looseObject({
  family,
  name: z.string(),
  handle: z.number().int(),
  comment: z.string().optional(),
  flags: flagList.optional(),
});

export const nftChain = z.looseObject({
  family,
  table: z.string(),
  name: z.string(),
  handle: z.number().int(),
  comment: z.string().optional(),
  // Base chains only:
  type: z.enum(['filter', 'nat', 'route']).optional(),
  hook: z.enum(['prerouting', 'input', 'forward', 'output', 'postrouting', 'ingress', 'egress']).optional(),
  prio: z.number().int().optional(),
  policy: z.enum(['accept', 'drop']).optional(),
  dev: z.union([z.string(), z.array(z.string())]).optional(),
});

const setCommon = {
  family,
  table: z.string(),
  name: z.string(),
  handle: z.number().int(),
  /** One type name, or the parts of a concatenation. */
  type: z.union([z.string(), z.array(z.string()).min(1)]),
  flags: flagList.optional(),
  timeout: z.number().optional(),
  'gc-interval': z.number().optional(),
  size: z.number().int().optional(),
  policy: z.enum(['performance', 'memory']).optional(),
  comment: z.string().optional(),
};

export const nftSet = z.looseObject({ ...setCommon, elem: z.array(nftSetElem).optional() });
export const nftMap = z.looseObject({
  ...setCommon,
  /** Data type: "verdict", or a value type such as "ipv4_addr". */
  map: z.union([z.string(), z.array(z.string())]),
  elem: z.array(nftMapElem).optional(),
});

/** One statement/expression of a rule: a single-key object, kept untyped. */
export const nftExpr = z.record(z.string(), z.unknown());

export const nftRule = z.looseObject({
  family,
  table: z.string(),
  chain: z.string(),
  handle: z.number().int(),
  comment: z.string().optional(),
  expr: z.array(nftExpr),
});

/** The object kinds typed here, each schema keyed by its kind. */
export const nftKinds = {
  metainfo: nftMetainfo,
  table: nftTable,
  chain: nftChain,
  rule: nftRule,
  set: nftSet,
  map: nftMap,
} as const;
export type NftKind = keyof typeof nftKinds;

/**
 * Any other object of the list (flowtable, counter, quota, ct helper, …): kept, not typed.
 * Its key must not be a typed kind, so an invalid chain cannot slip through as "other".
 */
const otherObject = z.record(
  z.string().regex(/^(?!(?:metainfo|table|chain|rule|set|map)$)/, 'a typed kind must match its schema'),
  z.unknown(),
);

export const nftObject = z.union([
  z.strictObject({ metainfo: nftMetainfo }),
  z.strictObject({ table: nftTable }),
  z.strictObject({ chain: nftChain }),
  z.strictObject({ rule: nftRule }),
  z.strictObject({ set: nftSet }),
  z.strictObject({ map: nftMap }),
  otherObject,
]);

export const nftListOutput = z.strictObject({ nftables: z.array(nftObject) });

export type NftValue = z.infer<typeof nftValue>;
export type NftSetElem = z.infer<typeof nftSetElem>;
export type NftVerdict = z.infer<typeof nftVerdict>;
export type NftMapElem = z.infer<typeof nftMapElem>;
export type NftTable = z.infer<typeof nftTable>;
export type NftChain = z.infer<typeof nftChain>;
export type NftSet = z.infer<typeof nftSet>;
export type NftMap = z.infer<typeof nftMap>;
export type NftRule = z.infer<typeof nftRule>;
export type NftObject = z.infer<typeof nftObject>;
export type NftListOutput = z.infer<typeof nftListOutput>;
