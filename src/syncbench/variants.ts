import type { BackendOptions } from '../../backends/types.js';
import { UsageError } from '../errors.js';
import { DEFAULT_KUBE_PROXY, type KubeProxyLine } from './config.js';

// A series of `bench sync`: one backend with one setting of the options that change what it does
// (the nft backend's kube-proxy line, the iptables flavour). Each is labelled as reports show it:
// `nft (1.37)`, `iptables-restore (legacy)`.

export interface Variant {
  /** Label and key: `nft (1.37)`, `iptables-restore (nft)`, `ebpf`. */
  id: string;
  backend: string;
  options: BackendOptions;
}

/** Which options make series of a backend: the nft backend's kube-proxy lines; the iptables
 * flavours of the backends that run iptables (kube-proxy's IPVS mode too, for its iptables side). */
const PROFILED = new Set(['nft']);
const IPTABLES = new Set(['iptables', 'iptables-restore', 'ipvs']);

export const hasKubeProxyLines = (backend: string): boolean => PROFILED.has(backend);

export function variants(
  f: {
    backend: readonly string[];
    kubeProxy?: readonly KubeProxyLine[] | undefined;
    iptablesMode: readonly ('legacy' | 'nft')[];
    syncTimeout: number;
  },
  /** Label the iptables backends with their flavour (bench sync compares flavours; bench run takes one). */
  o: { flavourLabels?: boolean } = {},
): Variant[] {
  if (f.kubeProxy !== undefined && !f.backend.some(hasKubeProxyLines))
    throw new UsageError(
      `--kube-proxy: ${f.backend.join(', ')} ${f.backend.length === 1 ? 'has' : 'have'} no kube-proxy lines; only the nft backend does (add --backend nft)`,
    );
  const lines = [...new Set(f.kubeProxy ?? [DEFAULT_KUBE_PROXY])];
  const modes = [...new Set(f.iptablesMode)];
  const out: Variant[] = [];
  for (const backend of new Set(f.backend)) {
    const base: BackendOptions = { iptablesMode: modes[0]!, syncTimeoutMs: f.syncTimeout * 1000 };
    if (hasKubeProxyLines(backend))
      for (const line of lines) out.push({ id: `${backend} (${line})`, backend, options: { ...base, kubeProxy: line } as BackendOptions });
    else if (IPTABLES.has(backend))
      for (const mode of modes)
        out.push({
          id: (o.flavourLabels ?? true) && (modes.length > 1 || backend !== 'ipvs') ? `${backend} (${mode})` : backend,
          backend,
          options: { ...base, iptablesMode: mode },
        });
    else out.push({ id: backend, backend, options: base });
  }
  return out;
}
