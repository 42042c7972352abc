import { BenchError } from '../../src/errors.js';
import { CommandError } from '../../src/exec/index.js';
import { binary, kernelOptions, verdict } from '../preflight.js';
import type { Backend, Rendered } from '../types.js';
import { diff, readback } from './readback.js';
import { renderFull, renderPartial, TABLE, type RenderResult } from './render.js';

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
  preflight: async () =>
    verdict([
      await binary('nft', ['--version'], 'nftables'),
      ...kernelOptions([
        'CONFIG_NF_TABLES',
        'CONFIG_NFT_NAT',
        'CONFIG_NFT_MASQ',
        'CONFIG_NFT_NUMGEN',
        'CONFIG_NFT_CT',
        'CONFIG_NFT_FIB_IPV4',
      ]),
    ]),

  render(prev, next, cfg): Rendered<RenderResult> {
    const r = prev === undefined ? renderFull(next, cfg) : renderPartial(prev, next, cfg);
    return { kind: prev === undefined ? 'full' : 'partial', payload: r, size: { count: r.stats.lines, unit: 'lines' } };
  },

  async apply(t, { payload: r }) {
    await t.exec.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin: r.script }).catch((e) => nftError(e, r.script));
    return { commands: 1 };
  },

  async readBack(t, { payload: r }) {
    const out = await t.exec.run({ netns: t.netns, argv: ['nft', '-j', 'list', 'table', 'ip', TABLE] });
    return diff(r.desired, readback(out.stdout));
  },

  async teardown(t) {
    await t.exec.run({ netns: t.netns, argv: ['nft', 'delete', 'table', 'ip', TABLE], allowFailure: true });
  },

  async rawLoad(t, { payload: r }) {
    await t.exec.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin: r.script });
  },
};
