// zod schemas for the per-sync listings kube-proxy's nftables mode makes (knftables List,
// ListAll and ListElements), kept apart from schema.ts (the full read-back's schemas).
//
// A listing is `{"nftables": [{metainfo}, {kind: {…}}, …]}` (libnftables-json(5)). Only the
// objects a listing uses are typed: chains, sets and maps by their family, table and name; the
// rules of `list table --terse` are kept as untyped records (knftables does not look at them
// for a listing either, and typing 50,000 rule objects would be most of the parse).

import { z } from 'zod';
import { nftMap, nftSet } from './schema.js';

/** One object of a listing: a single-key record; its value is validated by kind below. */
const listedObject = z.record(z.string(), z.unknown());
export const nftListingOutput = z.strictObject({ nftables: z.array(listedObject) });

/** What a listing needs of a chain, set or map. */
export const nftNamed = z.looseObject({ family: z.string(), table: z.string(), name: z.string() });
export type NftNamed = z.infer<typeof nftNamed>;

/** `nft --json list set|map ip TABLE NAME`: metainfo, then the one set or map with its elements. */
export const nftElementsOutput = z.strictObject({
  nftables: z.array(z.union([z.strictObject({ metainfo: z.unknown() }), z.strictObject({ set: nftSet }), z.strictObject({ map: nftMap })])),
});
