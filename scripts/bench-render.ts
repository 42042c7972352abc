// Benchmark: how long each backend's pure render takes for N services × 3 endpoints (issue
// target: at most 150 ms per backend at 10,000 services), full and partial (one service added
// when N exist). Usage: node dist/scripts/bench-render.js [SERVICES] [--time MS]
//
// Renderers cache per-object results (nft keys its port names on the ServicePort objects), so
// every task is measured twice: "warm" renders the same state object every iteration, "fresh"
// renders a structuredClone of it made in beforeEach, outside the timed region. "cold" is one
// render in a new Node process (nothing cached, nothing JIT-compiled), for information.
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench, type Task } from 'tinybench';
import { toRuleCommands } from '../backends/shared/iptables/ruleset.js';
import type { RenderResult as IptablesRender } from '../backends/shared/iptables/render.js';
import { backendByName, type Backend, type BackendOptions } from '../backends/index.js';
import { allocate, type ServiceSpec } from '../src/model/generate.js';
import { nthIp, parseCidr } from '../src/model/ipv4.js';
import type { ClusterState, ProxyConfig } from '../src/model/types.js';

export const POD_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/12';
export const TARGET_MS = 150;

/** kube-proxy-like scale specs: `n` services in one namespace, one TCP port each, 3 endpoints
 * each with pod IPs of their own from the pod CIDR, every 10th service of type NodePort. */
export function scaleSpecs(n: number, from = 0, podCidr = POD_CIDR): ServiceSpec[] {
  const pods = parseCidr(podCidr)!;
  return Array.from({ length: n }, (_, j) => {
    const i = from + j;
    return {
      namespace: 'bench',
      name: `svc-${i}`,
      type: i % 10 === 9 ? 'NodePort' : 'ClusterIP',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
      // .0 and .1 of the CIDR are left out, as pod addresses start at .2 in the sandbox.
      endpoints: [0, 1, 2].map((k) => nthIp(pods, 2 + 3 * i + k)),
    };
  });
}

/** The state with `n` services, and the same plus one more service (a partial sync's next). */
export function scaleStates(n: number, serviceCidr = SERVICE_CIDR, podCidr = POD_CIDR): { state: ClusterState; plusOne: ClusterState } {
  const specs = scaleSpecs(n + 1, 0, podCidr);
  const plusOne = allocate(specs, serviceCidr);
  const state = allocate(specs.slice(0, n), serviceCidr);
  if (plusOne.withoutNodePort.length > 0) throw new Error(`${plusOne.withoutNodePort.length} NodePort services got no node port`);
  return { state: state.state, plusOne: plusOne.state };
}

export const PROXY: ProxyConfig = { podCidr: POD_CIDR, masqueradeMark: '0x4000', nodeIPs: ['198.18.0.1'] };
export const OPTIONS: BackendOptions = { iptablesMode: 'legacy', syncTimeoutMs: 20_000 };

const backend = (name: string): Backend => {
  const b = backendByName(name);
  if (!b) throw new Error(`no backend ${name}`);
  return b;
};

interface Case {
  name: string;
  /** Backend whose verdict this task counts for ('' for none). */
  verdictFor: string;
  kind: 'full' | 'partial' | 'commands';
  run: (prev: ClusterState | undefined, next: ClusterState) => unknown;
}

// The restore render whose command list the 'command list only' task generates.
let prepared: unknown;

function cases(): Case[] {
  const restore = backend('iptables-restore');
  const nft = backend('nft');
  const byRule = backend('iptables');
  // The rule-by-rule backend's command list alone, from the structured ruleset that the restore
  // render produces (its `commands` getter is lazy, so this is the part it adds).
  const commandsOf = (r: unknown) => toRuleCommands((r as { payload: IptablesRender }).payload.desired);
  return [
    {
      name: 'iptables-restore full',
      verdictFor: 'iptables-restore',
      kind: 'full',
      run: (_p, n) => restore.render(undefined, n, PROXY, OPTIONS),
    },
    { name: 'nft full', verdictFor: 'nft', kind: 'full', run: (_p, n) => nft.render(undefined, n, PROXY, OPTIONS) },
    {
      name: 'iptables (rule by rule) full',
      verdictFor: 'iptables',
      kind: 'full',
      run: (_p, n) => byRule.render(undefined, n, PROXY, OPTIONS),
    },
    // Only toRuleCommands is timed: `prepared` is rendered in beforeEach.
    { name: 'iptables: command list only', verdictFor: '', kind: 'commands', run: () => commandsOf(prepared) },
    { name: 'iptables-restore partial +1', verdictFor: '', kind: 'partial', run: (p, n) => restore.render(p, n, PROXY, OPTIONS) },
    { name: 'nft partial +1', verdictFor: '', kind: 'partial', run: (p, n) => nft.render(p, n, PROXY, OPTIONS) },
    { name: 'iptables (rule by rule) partial +1', verdictFor: '', kind: 'partial', run: (p, n) => byRule.render(p, n, PROXY, OPTIONS) },
  ];
}

interface Row {
  task: string;
  mode: 'warm' | 'fresh';
  mean: number;
  p50: number;
  min: number;
  p75: number;
  p99: number;
  samples: number;
}

async function benchAll(n: number, timeMs: number): Promise<Row[]> {
  const { state, plusOne } = scaleStates(n);
  const restore = backend('iptables-restore');
  // One bench, each case warm then fresh back to back, so that load from other work on the
  // machine falls on both alike.
  const bench = new Bench({ name: `render ${n} services`, time: timeMs, iterations: 10, warmupIterations: 3, warmupTime: 0, throws: true });
  const modeOf = new Map<string, { task: string; mode: 'warm' | 'fresh' }>();
  let prev: ClusterState | undefined = state;
  let next: ClusterState = state;
  for (const c of cases()) {
    for (const mode of ['warm', 'fresh'] as const) {
      const setStates = () => {
        const p = c.kind === 'partial' ? state : undefined;
        const x = c.kind === 'partial' ? plusOne : state;
        prev = p === undefined ? undefined : mode === 'fresh' ? structuredClone(p) : p;
        next = mode === 'fresh' ? structuredClone(x) : x;
        if (c.kind === 'commands') prepared = restore.render(undefined, next, PROXY, OPTIONS);
      };
      setStates(); // tinybench calls fn once when the task is added (to see whether it is async)
      const name = `${c.name} (${mode})`;
      modeOf.set(name, { task: c.name, mode });
      bench.add(name, () => void c.run(prev, next), { beforeEach: setStates });
    }
  }
  await bench.run();
  console.log(`\n${bench.name} (tinybench)`);
  console.table(bench.table(tableRow));
  return bench.tasks.map((t) => {
    const l = t.result!.latency;
    return { ...modeOf.get(t.name)!, mean: l.mean, p50: l.p50!, p75: l.p75!, p99: l.p99!, min: l.min, samples: l.samples.length };
  });
}

const tableRow = (t: Task) => {
  const l = t.result!.latency;
  return {
    task: t.name,
    'mean (ms)': l.mean.toFixed(1),
    'p50 (ms)': l.p50!.toFixed(1),
    'p75 (ms)': l.p75!.toFixed(1),
    'p99 (ms)': l.p99!.toFixed(1),
    'min (ms)': l.min.toFixed(1),
    samples: l.samples.length,
  };
};

/** One render in this (new) process: the cold figure. */
function coldOne(n: number, task: string): number {
  const { state, plusOne } = scaleStates(n);
  const c = cases().find((x) => x.name === task)!;
  const t0 = performance.now();
  if (c.kind === 'commands') prepared = backend('iptables-restore').render(undefined, state, PROXY, OPTIONS);
  const t1 = performance.now();
  c.run(c.kind === 'partial' ? state : undefined, c.kind === 'partial' ? plusOne : state);
  return performance.now() - (c.kind === 'commands' ? t1 : t0);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const cold = flag('--cold-one');
  const timeMs = Number(flag('--time') ?? 3000);
  const n = Number(args[0] ?? 10_000);
  if (!Number.isInteger(n) || n < 1) throw new Error(`usage: bench-render.js [SERVICES] [--time MS]`);
  if (cold !== undefined) {
    process.stdout.write(`${coldOne(n, cold)}\n`);
    return;
  }

  console.error(
    `render benchmark: ${n} services × 3 endpoints (every 10th NodePort); node ${process.version}; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const coldMs = new Map<string, number>();
  for (const c of cases()) {
    const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(n), '--cold-one', c.name], { encoding: 'utf8' });
    coldMs.set(c.name, Number(out.trim()));
  }
  const rows = await benchAll(n, timeMs);

  // Summary: warm / fresh / cold side by side, then the verdicts.
  const get = (task: string, mode: 'warm' | 'fresh') => rows.find((r) => r.task === task && r.mode === mode)!;
  console.log(
    `\nrender, ${n} services × 3 endpoints (ms; load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')})`,
  );
  console.table(
    cases().map((c) => {
      const w = get(c.name, 'warm');
      const f = get(c.name, 'fresh');
      return {
        task: c.name,
        'warm mean': w.mean.toFixed(1),
        'warm p50': w.p50.toFixed(1),
        'warm p75': w.p75.toFixed(1),
        'warm p99': w.p99.toFixed(1),
        'warm n': w.samples,
        'fresh mean': f.mean.toFixed(1),
        'fresh p50': f.p50.toFixed(1),
        'fresh p75': f.p75.toFixed(1),
        'fresh p99': f.p99.toFixed(1),
        'fresh n': f.samples,
        cold: coldMs.get(c.name)!.toFixed(0),
      };
    }),
  );
  for (const c of cases().filter((x) => x.verdictFor !== '')) {
    const w = get(c.name, 'warm');
    const f = get(c.name, 'fresh');
    const worst = w.mean >= f.mean ? w : f;
    console.log(
      `verdict ${c.verdictFor}: full render mean ${worst.mean.toFixed(1)} ms (worse of warm ${w.mean.toFixed(1)} / fresh ${f.mean.toFixed(1)}; its p50 ${worst.p50.toFixed(1)}) ${
        worst.mean <= TARGET_MS ? 'MEETS' : 'MISSES'
      } the ${TARGET_MS} ms target${c.verdictFor === 'iptables' ? ' (this render includes the command list)' : ''}`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
