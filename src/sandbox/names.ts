import { randomBytes } from 'node:crypto';

// Every object a run creates carries the run id in its name, so `bench clean` can find it
// even without a state file (DESIGN.md, safety rules).

export const NS_PREFIX = 'svcb-';
const RUN_ID = /^[a-z0-9]{6}$/;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function newRunId(): string {
  return [...randomBytes(6)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

export const isRunId = (s: string): boolean => RUN_ID.test(s);

/** Roles inside a sandbox: the node (node 0 of a multi-node sandbox), further nodes node-N, the
 * underlay that joins the nodes and the external client (multi-node only), the external client,
 * server pods srv-N, client pods cli-N. */
export type Role = 'node' | `node-${number}` | 'underlay' | 'external' | `srv-${number}` | `cli-${number}`;

const SHORT: Partial<Record<Role, string>> = { external: 'ext', underlay: 'ul' };

export const netnsName = (runId: string, role: Role): string => `${NS_PREFIX}${runId}-${SHORT[role] ?? role}`;

/** The role of node `i` (0-based): node 0 keeps the single-node name. */
export const nodeRole = (i: number): Role => (i === 0 ? 'node' : `node-${i}`);

/** Inverse of netnsName for any name with our prefix; undefined for names that are not ours. */
export function parseNetnsName(name: string): { runId: string; role: string } | undefined {
  const m = /^svcb-([a-z0-9]{6})-(node|node-\d+|ext|ul|srv-\d+|cli-\d+)$/.exec(name);
  if (!m) return undefined;
  const role = m[2] === 'ext' ? 'external' : m[2] === 'ul' ? 'underlay' : m[2]!;
  return { runId: m[1]!, role };
}
