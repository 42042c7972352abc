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

/** Roles inside a sandbox: the node, the external client, server pods srv-N, client pods cli-N. */
export type Role = 'node' | 'external' | `srv-${number}` | `cli-${number}`;

export const netnsName = (runId: string, role: Role): string => `${NS_PREFIX}${runId}-${role === 'external' ? 'ext' : role}`;

/** Inverse of netnsName for any name with our prefix; undefined for names that are not ours. */
export function parseNetnsName(name: string): { runId: string; role: string } | undefined {
  const m = /^svcb-([a-z0-9]{6})-(node|ext|srv-\d+|cli-\d+)$/.exec(name);
  return m ? { runId: m[1]!, role: m[2] === 'ext' ? 'external' : m[2]! } : undefined;
}
