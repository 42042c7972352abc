import { z } from 'zod';
import type { BackendOptions } from '../../backends/types.js';
import { intInRange } from './fields.js';

/** Flags every backend receives (backends use what applies to them). */
export const backendOptionsShape = {
  iptablesMode: z
    .enum(['legacy', 'nft'], { error: 'must be legacy or nft' })
    .default('nft')
    .describe('iptables flavour for the iptables backends: legacy (x_tables) or nft (nf_tables compat, the Debian default)'),
  syncTimeout: intInRange(1, 3600).default(20).describe('time budget in seconds of one sync of the rule-by-rule iptables backend'),
};

export const KUBE_PROXY_PROFILES = ['1.35', '1.36', '1.37', 'single-map'] as const;
export const NFT_LISTINGS = ['nft', 'netlink', 'none'] as const;

/** The nft backend's flags (a backend without them rejects them: see nftOptionsFor). */
export const nftOptionsShape = {
  kubeProxy: z
    .enum(KUBE_PROXY_PROFILES, { error: `must be one of ${KUBE_PROXY_PROFILES.join(', ')}` })
    .optional()
    .describe(
      `nft backend: the kube-proxy line whose rules and per-sync work it reproduces: ${KUBE_PROXY_PROFILES.join(', ')} (default 1.37)`,
    ),
  nftListing: z
    .enum(NFT_LISTINGS, { error: `must be one of ${NFT_LISTINGS.join(', ')}` })
    .optional()
    .describe("nft backend: how each sync lists the table, overriding the profile's way: nft, netlink or none (in-memory)"),
};

/** The parsed flags as the backends take them. */
export function toBackendOptions(f: {
  iptablesMode: 'legacy' | 'nft';
  syncTimeout: number;
  kubeProxy?: BackendOptions['kubeProxy'];
  nftListing?: BackendOptions['nftListing'];
}): BackendOptions {
  return {
    iptablesMode: f.iptablesMode,
    syncTimeoutMs: f.syncTimeout * 1000,
    ...(f.kubeProxy !== undefined ? { kubeProxy: f.kubeProxy } : {}),
    ...(f.nftListing !== undefined ? { nftListing: f.nftListing } : {}),
  };
}
