// The only registry of backends (DESIGN.md, layout). Everything else looks backends up here.
import { ebpf } from './ebpf/backend.js';
import { iptables } from './iptables/backend.js';
import { iptablesRestore } from './iptables-restore/backend.js';
import { ipvs } from './ipvs/backend.js';
import { nft } from './nft/backend.js';
import type { Backend, BackendInfo } from './types.js';

/** Every backend, in the order reports list them. IPVS has its preflight (so `bench doctor`
 * reports on it) and gets its data plane in a later issue. */
export const BACKENDS: readonly BackendInfo[] = [iptables, iptablesRestore, nft, ipvs, ebpf];
export const BACKEND_NAMES = BACKENDS.map((b) => b.name);

/** Backends that can install services (render, apply, read back). */
export const isImplemented = (b: BackendInfo): b is Backend => 'render' in b && 'apply' in b;
export const IMPLEMENTED = BACKENDS.filter(isImplemented);

export function backendByName(name: string): BackendInfo | undefined {
  return BACKENDS.find((b) => b.name === name);
}

export type { Backend, BackendInfo, BackendOptions, Check, NodeTarget, Preflight } from './types.js';
