// The backend contract (DESIGN.md §1, §3): one folder and one exported object per backend,
// registered only in backends/index.ts. The runner never branches on a backend's name.
import type { Clock } from '../src/clock.js';
import type { Command, Exec, ExecResult } from '../src/exec/index.js';
import type { ClusterState, ProxyConfig } from '../src/model/types.js';

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

export type IptablesMode = 'legacy' | 'nft';

/** Options some backends take; every backend receives them all and uses what applies. */
export interface BackendOptions {
  iptablesMode: IptablesMode;
  /** Time budget of one sync for backends that can run for minutes (rule by rule). */
  syncTimeoutMs: number;
  /** nft backend: the kube-proxy line whose layout and per-sync work it reproduces (default 1.37). */
  kubeProxy?: '1.35' | '1.36' | '1.37' | 'single-map';
  /** nft backend: how each sync lists the table, overriding the profile's own way; `none` is the
   * in-memory tracking proposed in kubernetes#139878. */
  nftListing?: 'nft' | 'netlink' | 'none';
}

/** Where a backend programs rules: the node namespace of a sandbox, through the exec port. */
export interface NodeTarget {
  exec: Exec;
  netns: string;
  cfg: ProxyConfig;
  options: BackendOptions;
  /** The run's own cgroup2 directory, which the sandbox's pod and node processes join: socket-level
   * backends attach their cgroup programs here (never to the cgroup2 root). */
  cgroup?: string;
  /** The run's own bpffs mount, for pins. */
  bpffs?: string;
  /** The node's external-facing interfaces (Cilium's --devices): where tc NodePort programs go. */
  devices?: string[];
  /** The pod IPs that run on this node, on a sandbox of more than one node: sync() renders the
   * state as this node sees it (src/model/nodes.ts, localize). Absent: every endpoint is as the
   * state says (one node, where all are local). */
  localEndpoints?: ReadonlySet<string>;
  /** What a backend keeps between syncs on this node, as kube-proxy keeps it in memory (the nft
   * backend's stale chains and their flush times). One per node target, never in the backend object. */
  memory?: Map<string, unknown>;
  /** Time for budgets inside an apply (--sync-timeout); the system clock unless a test drives it. */
  clock?: Clock;
  /** Runs one command measuring the memory it costs (src/sandbox/memory.ts: peak RSS, cgroup
   * peak, kernel memory), where the caller opened a memory probe; a backend uses it for the
   * command whose cost upstream measures (nft: the sync's `nft -f`). */
  measure?: (cmd: Command) => Promise<{ result: ExecResult; memory: Record<string, number> }>;
}

/** What a render produced: the backend's own payload plus a few numbers for people. */
export interface Rendered<P> {
  kind: 'full' | 'partial';
  payload: P;
  /** Size of what apply sends (lines, commands or map entries), with its unit. */
  size: { count: number; unit: string };
}

export interface Applied {
  /** External commands run (processes spawned) by this apply. */
  commands: number;
  /** Set when a time-budgeted apply stopped at its budget: the sync is reported as exceeded. */
  exceeded?: BudgetExceeded;
  /** Milliseconds per named phase of the apply, in the order they ran (nft: list,
   * read-elements, stale-delete, apply). */
  phases?: Record<string, number>;
  /** performance.now() when the step that makes the new rules take effect began: the spawn of the
   * process whose transaction commits them (nft -f, iptables-restore), or the in-process map update.
   * The rules take effect between this moment and the apply's end (network-programming latency
   * compares with both). Unset when no single step commits the sync. */
  commitAt?: number;
  /** What `NodeTarget.measure` measured of this apply (bytes and KiB by name). */
  memory?: Record<string, number>;
}

/** A time-budgeted apply that stopped: at its budget, or earlier when the pace of the commands
 * done so far already needs more than the budget (projectedMs: that pace × all commands). */
export interface BudgetExceeded {
  budgetMs: number;
  done: number;
  total: number;
  projectedMs?: number;
}

/** What describes a backend before it runs: its name, its title and its preflight. */
export interface BackendInfo {
  name: string;
  /** One line for `bench doctor` and reports. */
  title: string;
  /** Programs rules through iptables, so --iptables-mode (legacy or nft) picks its tools: reports
   * and `bench verify` name the flavour it ran with. */
  iptablesFlavour: boolean;
  /** True when the backend reproduces kube-proxy's versions (`--kube-proxy`, BackendOptions.kubeProxy). */
  kubeProxyProfiles?: boolean;
  /** Its syncs are bounded by --sync-timeout and can outgrow it long before the others' (one
   * process per rule): `bench run` times its pace on a small probe first and measures it at the
   * largest scale up to the requested one that the pace fits (src/run/fit-scale.ts), saying so. */
  scaledToSyncTimeout?: true;
  /** Reads the host (tools, kernel options) through `exec`; changes nothing. */
  preflight(options: BackendOptions, exec: Exec): Promise<Preflight>;
}

export interface Backend<P = unknown> extends BackendInfo {
  /** Pure: the full sync of `next`, or the partial sync from `prev` to `next` (DESIGN.md §1). */
  render(prev: ClusterState | undefined, next: ClusterState, cfg: ProxyConfig, options: BackendOptions): Rendered<P>;
  /** Sends a rendered sync, in one transaction where the mechanism allows; builds nothing itself. */
  apply(target: NodeTarget, rendered: Rendered<P>): Promise<Applied>;
  /** Reads the installed state back and lists its differences from what `rendered` wanted
   * (empty when they agree). Slow on big rulesets: never inside a timed region. */
  readBack(target: NodeTarget, rendered: Rendered<P>): Promise<string[]>;
  /** Removes what the backend installed in the node namespace. */
  teardown(target: NodeTarget): Promise<void>;
  /** The raw tool loading the same payload, for the overhead comparison (e.g. iptables-restore). */
  rawLoad?(target: NodeTarget, rendered: Rendered<P>): Promise<void>;
}
