// The only registry of backends (DESIGN.md, layout). Everything else looks backends up here.
import { ebpf } from './ebpf/backend.js';
import { iptables } from './iptables/backend.js';
import { iptablesRestore } from './iptables-restore/backend.js';
import { ipvs } from './ipvs/backend.js';
import { nft } from './nft/backend.js';
import type { Backend } from './types.js';

/** Every backend, in the order `bench run` tries them when --backend is not given, `bench doctor`
 * checks them and the flags' help names them. Reports do not follow it: their tables, charts and
 * findings sort backends by name (one colour per name in every chart), and their Backends table
 * keeps the run's own order (this order, or --backend's). */
export const BACKENDS: readonly Backend[] = [iptables, iptablesRestore, nft, ipvs, ebpf];
export const BACKEND_NAMES = BACKENDS.map((b) => b.name);

export function backendByName(name: string): Backend | undefined {
  return BACKENDS.find((b) => b.name === name);
}

export type { Backend, BackendInfo, BackendOptions, Check, NodeTarget, Preflight } from './types.js';
