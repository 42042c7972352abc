// The backend contract (DESIGN.md §1, §3): one folder and one exported object per backend,
// registered only in backends/index.ts. The runner never branches on a backend's name.

export type CheckState = 'ok' | 'missing';

/** One requirement a preflight looked at: a binary, a kernel option, a filesystem. */
export interface Check {
  what: string;
  state: CheckState;
  /** Version of a binary, or the kernel option's value. */
  detail?: string;
  /** How to get it when missing. */
  fix?: string;
}

/** "can't use the IPVS proxier: …" as kube-proxy says it: ready, or unavailable with the reason
 * and the fix, and the checks behind the verdict. */
export type Preflight = { state: 'ready'; checks: Check[] } | { state: 'unavailable'; reason: string; fix: string; checks: Check[] };

export interface Backend {
  name: string;
  /** One line for `bench doctor` and reports. */
  title: string;
  preflight(): Promise<Preflight>;
}
