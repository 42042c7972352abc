// The only registry of backends (DESIGN.md, layout). Everything else looks backends up here.
import { ebpf } from './ebpf/backend.js';
import { iptables } from './iptables/backend.js';
import { iptablesRestore } from './iptables-restore/backend.js';
import { ipvs } from './ipvs/backend.js';
import { nft } from './nft/backend.js';
import type { Backend } from './types.js';

export const BACKENDS = [iptables, iptablesRestore, nft, ipvs, ebpf] as const satisfies readonly Backend[];
export type BackendName = (typeof BACKENDS)[number]['name'];
export const BACKEND_NAMES = BACKENDS.map((b) => b.name);
export type { Backend, Preflight, Check } from './types.js';
