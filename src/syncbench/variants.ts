import { backendByName, BACKENDS } from '../../backends/index.js';
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

/** Which options make series of a backend, as its registry entry says: the kube-proxy lines of a
 * backend with kubeProxyProfiles, the iptables flavours of one with iptablesFlavour. */
export const hasKubeProxyLines = (backend: string): boolean => backendByName(backend)?.kubeProxyProfiles === true;
const hasFlavours = (backend: string): boolean => backendByName(backend)?.iptablesFlavour === true;

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
      `--kube-proxy: ${f.backend.join(', ')} ${f.backend.length === 1 ? 'has' : 'have'} no kube-proxy lines; only ${BACKENDS.filter(
        (b) => b.kubeProxyProfiles === true,
      )
        .map((b) => b.name)
        .join(', ')} ${BACKENDS.filter((b) => b.kubeProxyProfiles === true).length === 1 ? 'does' : 'do'}`,
    );
  const lines = [...new Set(f.kubeProxy ?? [DEFAULT_KUBE_PROXY])];
  const modes = [...new Set(f.iptablesMode)];
  const out: Variant[] = [];
  for (const backend of new Set(f.backend)) {
    const base: BackendOptions = { iptablesMode: modes[0]!, syncTimeoutMs: f.syncTimeout * 1000 };
    if (hasKubeProxyLines(backend))
      for (const line of lines) out.push({ id: `${backend} (${line})`, backend, options: { ...base, kubeProxy: line } as BackendOptions });
    else if (hasFlavours(backend))
      for (const mode of modes)
        out.push({
          id: (o.flavourLabels ?? true) ? `${backend} (${mode})` : backend,
          backend,
          options: { ...base, iptablesMode: mode },
        });
    else out.push({ id: backend, backend, options: base });
  }
  return out;
}
