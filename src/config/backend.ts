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

/** The parsed flags as the backends take them. */
export function toBackendOptions(f: { iptablesMode: 'legacy' | 'nft'; syncTimeout: number }): BackendOptions {
  return { iptablesMode: f.iptablesMode, syncTimeoutMs: f.syncTimeout * 1000 };
}
