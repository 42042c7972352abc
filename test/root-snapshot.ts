import { execa } from 'execa';

// The root-namespace snapshot, without vitest: test/helpers.ts (the e2e tier) and
// test/faults/kill/host.ts (scripts/random-kill.ts, run outside vitest) both use it.

/** Everything in the root namespace that the project must never change. */
export async function rootSnapshot(): Promise<Record<string, string>> {
  const run = async (argv: string[], filter: (l: string) => boolean = () => true) => {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false });
    return String(r.stdout).split('\n').filter(filter).join('\n');
  };
  const noComments = (l: string) => !l.startsWith('#');
  return {
    links: await run(['ip', '-o', 'link', 'show']),
    addresses: await run(['ip', '-o', 'address', 'show']),
    routes: await run(['ip', 'route', 'show', 'table', 'all']),
    rules: await run(['ip', 'rule', 'show']),
    iptablesLegacy: await run(['iptables-legacy-save'], noComments),
    iptablesNft: await run(['iptables-nft-save'], noComments),
    nft: await run(['nft', 'list', 'ruleset']),
    // Counters change by themselves; everything else under net.* must not move.
    sysctls: await run(['sysctl', '-a', '--pattern', '^net\\.'], (l) => !/nf_conntrack_count/.test(l)),
  };
}
