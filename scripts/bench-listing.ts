// Benchmark: the per-sync listings of kube-proxy's nftables mode (backends/nft/listing.ts) on a
// table of N services installed by the nft backend's full sync, in a sandbox's node namespace.
// Each method is timed --reps times (interleaved), and all three must return the same chains and
// sets; the full-sync element reads are timed too. knftables measured List(chain) at 10,000
// chains: via nft 72.8 ms, via netlink 22.9 ms (knftables db4af93).
//
// Usage (as root, under the e2e lock): node dist/scripts/bench-listing.js [SERVICES] [--reps N] [--capture DIR]
//   --capture DIR   also writes the raw `nft --json` outputs of each listing into DIR (for testdata)
import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import { backendByName, type Backend } from '../backends/index.js';
import { ELEMENT_STORES, LISTING_METHODS, listTable, readElements, type ListingMethod } from '../backends/nft/listing.js';
import { sandboxSchema } from '../src/config/sandbox.js';
import { RealExec } from '../src/exec/index.js';
import { Interrupts, signalExitCode } from '../src/lifecycle.js';
import { closeSandbox, nodeTarget, openSandbox } from '../src/sandbox/session.js';
import { median } from '../src/stats/index.js';
import { sync } from '../src/sync.js';
import { scaleStates } from './bench-render.js';

export const EXTRAS = [
  'add table ip svcb-other',
  'add chain ip svcb-other other-chain',
  'add set ip svcb-other other-set { type ipv4_addr; }',
  'add chain ip kube-proxy svcb-extra',
  'add rule ip kube-proxy svcb-extra ip daddr { 192.0.2.1, 192.0.2.2 } counter',
  'add set ip kube-proxy svcb-named-set { type ipv4_addr; }',
  'add map ip kube-proxy svcb-named-map { type ipv4_addr : verdict; }',
  '',
].join('\n');

const say = (line: string): void => void process.stderr.write(`${line}\n`);

function parseArgs(argv: string[]) {
  const args = [...argv];
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const reps = Number(flag('--reps') ?? 5);
  const capture = flag('--capture');
  const n = Number(args[0] ?? 10_000);
  if (![n, reps].every((x) => Number.isInteger(x) && x >= 1)) {
    say('usage: bench-listing.js [SERVICES] [--reps N] [--capture DIR]');
    process.exit(2);
  }
  return { n, reps, capture };
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const exec = new RealExec();
  const interrupts = new Interrupts(say);
  const backend = backendByName('nft') as Backend;
  const options = { iptablesMode: 'legacy' as const, syncTimeoutMs: 60_000 };
  const rootNs = readlinkSync('/proc/self/ns/net');
  const sb = await openSandbox(exec, sandboxSchema.parse({ pods: 3, clients: 1 }), {
    command: `bench-listing ${o.n}`,
    check: interrupts.check,
  });
  const target = nodeTarget(exec, sb, options);
  try {
    const { state } = scaleStates(o.n, sb.plan.serviceCidr, sb.plan.podCidr);
    const full = await sync(backend, target, undefined, state);
    say(
      `installed ${o.n} services: full sync ${(full.record.totalMs / 1000).toFixed(2)} s (${full.rendered.size.count} ${full.rendered.size.unit})`,
    );
    interrupts.check();
    if (o.capture !== undefined) {
      // Objects the listings must leave out: another table of the family (`list chains ip` and
      // `list sets ip` print every table), an anonymous set in a kube-proxy rule, a named map.
      await exec.run({ netns: target.netns, argv: ['nft', '-f', '-'], stdin: EXTRAS });
      mkdirSync(o.capture, { recursive: true });
      const nft = async (file: string, args: string[]) => {
        const r = await exec.run({ netns: target.netns, argv: ['nft', '--json', ...args], allowFailure: true });
        if (r.exitCode === 0) writeFileSync(join(o.capture!, file), r.stdout);
        else say(`nft ${args.join(' ')}: ${r.stderr.trim().split('\n')[0]}`);
      };
      await nft('list-chains-ip.json', ['list', 'chains', 'ip']);
      await nft('list-sets-ip.json', ['list', 'sets', 'ip']);
      await nft('list-table-terse.json', ['--terse', 'list', 'table', 'ip', 'kube-proxy']);
      for (const [name, kind] of Object.entries(ELEMENT_STORES))
        await nft(`list-${kind}-${name}.json`, ['list', kind, 'ip', 'kube-proxy', name]);
      say(`captured the raw listings in ${o.capture}`);
    }
    const times = new Map<ListingMethod, number[]>(LISTING_METHODS.map((m) => [m, []]));
    const results = new Map<ListingMethod, string>();
    for (let r = 0; r < o.reps; r++) {
      for (const m of r % 2 === 0 ? LISTING_METHODS : [...LISTING_METHODS].reverse()) {
        const t0 = performance.now();
        const l = await listTable(target, m);
        times.get(m)!.push(performance.now() - t0);
        results.set(m, JSON.stringify({ chains: l.chains, sets: l.sets }));
        interrupts.check();
      }
    }
    const elemMs: number[] = [];
    let elements = 0;
    for (let r = 0; r < o.reps; r++) {
      const t0 = performance.now();
      const els = await readElements(target, Object.keys(ELEMENT_STORES));
      elemMs.push(performance.now() - t0);
      elements = [...els.values()].reduce((a, e) => a + e.length, 0);
    }
    const same = new Set(results.values()).size === 1;
    const ref = JSON.parse(results.get('netlink')!) as { chains: string[]; sets: string[] };
    const back = readlinkSync('/proc/self/ns/net');
    console.log(
      `\nlistings of table ip kube-proxy: ${o.n} services × 3 endpoints, ${ref.chains.length} chains, ${ref.sets.length} named sets; kernel ${release()}`,
    );
    console.table(
      LISTING_METHODS.map((m) => {
        const t = times.get(m)!;
        return {
          method: m,
          'median ms': median(t).toFixed(1),
          'min ms': Math.min(...t).toFixed(1),
          'max ms': Math.max(...t).toFixed(1),
          n: t.length,
        };
      }),
    );
    console.log(
      `read-elements (${Object.keys(ELEMENT_STORES).length} stores, ${elements} elements): median ${median(elemMs).toFixed(1)} ms of ${elemMs.length}`,
    );
    console.log(
      `all three methods agree: ${same ? 'yes' : 'NO'}; root network namespace unchanged: ${back === rootNs ? 'yes' : 'NO'} (${back})`,
    );
    return same && back === rootNs ? 0 : 1;
  } catch (e) {
    if (interrupts.received) return signalExitCode(interrupts.received);
    throw e;
  } finally {
    await backend.teardown(target).catch(() => {});
    await closeSandbox(exec, sb);
    interrupts.dispose();
  }
}

process.exitCode = await main();
