// Attribution of CPU samples to the parts of the path (src/profile/README.md, "Attribution").
//
// Rule: a sample counts once, to the innermost group on its call chain: walking from the leaf
// towards the root, the first frame whose symbol belongs to a group decides (groups.ts). So time
// in conntrack called from nf_hook_slow is conntrack's, not netfilter's as well, and a memcpy
// under nf_nat_manip_pkt is NAT's. Two refinements:
// - routing and stack functions called from the Service machinery (netfilter, conntrack, NAT,
//   IPVS, BPF) are that machinery's: nft's `fib daddr type local` is a rule's cost, not routing's;
// - the walk stops at a softirq or interrupt entry (CONTEXT_BOUNDARY): what lies rootward is the
//   interrupted context, not the work the sample caught.
// Which samples count:
// - any process's sample whose chain has a path group other than 'stack' (bpf, ipvs, nat,
//   conntrack, netfilter, routing): softirq work runs in whatever context the CPU was in (the
//   client, a server, ksoftirqd, the idle task at irq exit), and no other work on this machine
//   goes through these hooks while a case runs (assumed: the suite runs its profile test alone, in
//   vitest.config.ts's timing group);
// - 'stack' time from the case's own processes, kernel threads, and any process's softirq context
//   (a softirq runs on whichever task an interrupt or bh-enable caught); not from other processes'
//   own syscalls: other processes on a shared machine use sockets too (a build's unix sockets);
// - the case's processes' other samples: 'user' (no kernel frames: user mode) or 'other';
// - the rest is 'idle' (the idle task) or 'unrelated' (other processes), counted but not charged.
import { CONTEXT_BOUNDARY, GROUPS, groupOfSymbol, MACHINERY_GROUPS, type Group } from './groups.js';
import type { PerfSample } from './parse.js';

/** Frames of one folded stack, the leaf-most ones (perf's --max-stack keeps those too). */
export const MAX_STACK_DEPTH = 16;
/** Distinct folded stacks kept per case; the rest are summed per group. */
export const MAX_STACKS = 200;

export interface Attribution {
  /** Samples seen in the window, by kind. */
  samples: { total: number; counted: number; idle: number; unrelated: number };
  /** Nanoseconds of CPU (sum of the samples' periods) per group. */
  groupNs: Record<Group, number>;
  /** Samples per group. */
  groupSamples: Record<Group, number>;
  /** Folded stacks "group;root;…;leaf" with their sample counts, largest first, capped. */
  stacks: [string, number][];
}

export interface AttributeOptions {
  /** The case's own processes: the load generator and the servers. */
  pids: ReadonlySet<number>;
  maxDepth?: number;
  maxStacks?: number;
}

const PATH_GROUPS: ReadonlySet<Group> = new Set(['bpf', 'ip_vs', 'nat', 'conntrack', 'netfilter', 'routing']);

export function isKernelThread(s: Pick<PerfSample, 'pid' | 'comm'>): boolean {
  return s.pid === 0 || /^(ksoftirqd|kworker|rcu_|migration)/.test(s.comm);
}

/** The frames of the sampled context: the leaf up to, not including, the first softirq or
 * interrupt entry. */
export function ownContext(frames: readonly string[]): readonly string[] {
  const end = frames.findIndex((f) => CONTEXT_BOUNDARY.test(f));
  return end < 0 ? frames : frames.slice(0, end);
}

/** The group of a sample's own context by the innermost rule (a routing or stack hit inside the
 * machinery goes to the machinery), or undefined when no frame matches. */
export function innermostGroup(frames: readonly string[]): Group | undefined {
  let first: Group | undefined;
  for (const f of ownContext(frames)) {
    const g = groupOfSymbol(f);
    if (g === undefined) continue;
    if (MACHINERY_GROUPS.has(g)) return g;
    first ??= g;
  }
  return first;
}

const zero = (): Record<Group, number> => Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<Group, number>;

export function attribute(samples: readonly PerfSample[], o: AttributeOptions): Attribution {
  const maxDepth = o.maxDepth ?? MAX_STACK_DEPTH;
  const groupNs = zero();
  const groupSamples = zero();
  const counts = { total: 0, counted: 0, idle: 0, unrelated: 0 };
  const folded = new Map<string, number>();
  for (const s of samples) {
    counts.total++;
    const own = o.pids.has(s.pid);
    const hit = innermostGroup(s.frames);
    const softirq = ownContext(s.frames).length < s.frames.length;
    let group: Group | undefined;
    if (hit !== undefined && (PATH_GROUPS.has(hit) || own || softirq || isKernelThread(s))) group = hit;
    else if (own) group = s.frames.length === 0 ? 'user' : 'other';
    if (group === undefined) {
      if (s.pid === 0) counts.idle++;
      else counts.unrelated++;
      continue;
    }
    counts.counted++;
    groupNs[group] += s.period;
    groupSamples[group] += 1;
    const key = group === 'user' ? `user;${s.comm}` : `${group};${ownContext(s.frames).slice(0, maxDepth).reverse().join(';')}`;
    folded.set(key, (folded.get(key) ?? 0) + 1);
  }
  return { samples: counts, groupNs, groupSamples, stacks: capStacks(folded, o.maxStacks ?? MAX_STACKS) };
}

/** The largest `max` stacks; every other stack's samples go to "group;(smaller stacks)". */
export function capStacks(folded: ReadonlyMap<string, number>, max: number): [string, number][] {
  const all = [...folded].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = all.slice(0, max);
  const rest = new Map<string, number>();
  for (const [stack, n] of all.slice(max)) {
    const key = `${stack.slice(0, stack.indexOf(';'))};(smaller stacks)`;
    rest.set(key, (rest.get(key) ?? 0) + n);
  }
  return [...kept, ...[...rest].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))];
}
