import { BenchError } from '../../src/errors.js';
import { CommandError } from '../../src/exec/index.js';
import { binary, kernelOptions, verdict } from '../preflight.js';
import type { Backend, Rendered } from '../types.js';
import { diff, readback } from './readback.js';
import { renderFull, renderPartial, TABLE, type RenderResult } from './render.js';
import { applySync, nftMemory } from './sync-work.js';

/** nft reports "/dev/stdin:LINE:COL-COL: Error: …" and then the line: keep both. One `nft -f` is
 * one kernel transaction, so a rejected line means nothing was applied. */
function nftError(e: unknown, script: string): never {
  if (!(e instanceof CommandError)) throw e;
  const m = /:(\d+):\d+(?:-\d+)?: Error: (.*)/.exec(e.stderr);
  const line = m ? script.split('\n')[Number(m[1]) - 1] : undefined;
  throw new BenchError(`nft rejected the transaction${m ? ` at line ${m[1]}: ${line}\n${m[2]}` : `: ${e.stderr.trim()}`}`, {
    hint: 'nft -f is one transaction: nothing of it was applied',
    cause: e,
  });
}

export const nft: Backend<RenderResult> = {
  name: 'nft',
  title: "kube-proxy's nftables mode: verdict maps and per-service chains, one nft -f transaction per sync",
  iptablesFlavour: false,
  kubeProxyProfiles: true,
  preflight: async (_o, exec) =>
    verdict([
      await binary(exec, 'nft', ['--version'], 'nftables'),
      ...kernelOptions([
        'CONFIG_NF_TABLES',
        'CONFIG_NFT_NAT',
        'CONFIG_NFT_MASQ',
        'CONFIG_NFT_NUMGEN',
        'CONFIG_NFT_CT',
        'CONFIG_NFT_FIB_IPV4',
      ]),
    ]),

  render(prev, next, cfg, options): Rendered<RenderResult> {
    const profile = options.kubeProxy;
    const r = prev === undefined ? renderFull(next, cfg, { profile }) : renderPartial(prev, next, cfg, { profile });
    return { kind: prev === undefined ? 'full' : 'partial', payload: r, size: { count: r.stats.lines, unit: 'lines' } };
  },

  async apply(t, rendered) {
    return applySync(t, rendered, async (argv, stdin) => {
      const cmd = { netns: t.netns, argv, stdin };
      // Measured as upstream measures nft -f (src/sandbox/memory.ts), where the caller asks for it.
      if (t.measure !== undefined) return (await t.measure(cmd).catch((e) => nftError(e, stdin))).memory;
      await t.exec.run(cmd).catch((e) => nftError(e, stdin));
      return undefined;
    });
  },

  async readBack(t, { payload: r }) {
    const out = await t.exec.run({ netns: t.netns, argv: ['nft', '-j', 'list', 'table', 'ip', TABLE] });
    // Chains flushed by a sync and not yet deleted (≥ 1 s later, sync-work.ts) are in kube-proxy's
    // table too: empty, and not part of the desired one.
    const have = readback(out.stdout);
    for (const c of nftMemory(t).staleChains.keys()) if (have.chains.get(c)?.rules.length === 0) have.chains.delete(c);
    return diff(r.desired, have);
  },

  async teardown(t) {
    await t.exec.run({ netns: t.netns, argv: ['nft', 'delete', 'table', 'ip', TABLE], allowFailure: true });
  },

  async rawLoad(t, { payload: r }) {
    await t.exec.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin: r.script });
  },
};
