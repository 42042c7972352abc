// The only registry of backends (DESIGN.md, layout). Everything else looks backends up here.
import { ebpf } from './ebpf/backend.js';
import { iptables } from './iptables/backend.js';
import { iptablesRestore } from './iptables-restore/backend.js';
import { ipvs } from './ipvs/backend.js';
import { nft } from './nft/backend.js';
import type { Backend } from './types.js';

/** Every backend, in the order reports list them. */
export const BACKENDS: readonly Backend[] = [iptables, iptablesRestore, nft, ipvs, ebpf];
export const BACKEND_NAMES = BACKENDS.map((b) => b.name);

export function backendByName(name: string): Backend | undefined {
  return BACKENDS.find((b) => b.name === name);
}

export type { Backend, BackendInfo, BackendOptions, Check, NodeTarget, Preflight } from './types.js';
