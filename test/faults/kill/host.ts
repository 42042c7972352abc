import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa } from 'execa';

// The built CLI and the root-namespace snapshot for the random-kill campaign, without vitest:
// scripts/random-kill.ts runs outside it (test/helpers.ts imports vitest's hooks). The snapshot is
// test/helpers.ts rootSnapshot's.

export const BENCH = resolve('dist/src/cli/main.js');

export function requireBuild(): void {
  if (!existsSync(BENCH)) throw new Error('dist/ is missing: run `npm run build`');
}

export async function bench(args: string[], opts: { timeoutMs?: number } = {}) {
  const r = await execa(process.execPath, [BENCH, ...args], { reject: false, timeout: opts.timeoutMs ?? 60_000, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

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
