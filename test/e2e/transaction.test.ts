import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, BackendOptions, NodeTarget, Rendered } from '../../backends/types.js';
import { iptablesRestore } from '../../backends/iptables-restore/backend.js';
import type { RenderResult as IptResult } from '../../backends/shared/iptables/render.js';
import { iptablesTools } from '../../backends/shared/iptables/tools.js';
import { nft } from '../../backends/nft/backend.js';
import type { RenderResult as NftResult } from '../../backends/nft/render.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import { BenchError } from '../../src/errors.js';
import { RealExec } from '../../src/exec/index.js';
import { allocate, type ServiceSpec } from '../../src/model/generate.js';
import { closeSandbox, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { sync } from '../../src/sync.js';
import { isRoot } from '../helpers.js';

// A rule the kernel rejects fails the whole transaction, the error shows the offending line, and
// nothing is half-applied: the installed state still reads back as the previous sync left it.
// iptables-restore commits table by table and its payload has filter first (kube-proxy's order):
// a bad nat rule comes after the filter table committed, so `after` changes the filter table (a
// service without endpoints gets a REJECT there) and the read-back shows it was put back.

const exec = new RealExec();
const specs = (n: number): ServiceSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    namespace: 'tx',
    name: `s${i}`,
    type: 'NodePort',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    endpoints: ['10.244.0.2', '10.244.0.3'],
  }));

describe.runIf(isRoot)('rejected transactions', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await openSandbox(exec, sandboxSchema.parse({ pods: 2 }), { command: 'test transaction' });
  });
  afterAll(async () => {
    await closeSandbox(exec, sb);
  });
  const target = (options: BackendOptions): NodeTarget => ({
    exec,
    netns: sb.plan.node.netns,
    cfg: { podCidr: '10.244.0.0/16', masqueradeMark: '0x4000', nodeIPs: [sb.plan.node.ip] },
    options,
  });
  const before = allocate(specs(5), '10.96.0.0/12').state;
  const after = allocate(
    specs(7).map((s, i) => (i === 6 ? { ...s, endpoints: [] } : s)),
    '10.96.0.0/12',
  ).state;

  async function expectRejected<P>(
    backend: Backend<P>,
    t: NodeTarget,
    tamper: (r: Rendered<P>) => { rendered: Rendered<P>; line: string },
  ) {
    await backend.teardown(t);
    const good = await sync(backend, t, undefined, before);
    expect(await backend.readBack(t, good.rendered)).toEqual([]);
    const { rendered, line } = tamper(backend.render(before, after, t.cfg, t.options));
    const err = await backend.apply(t, rendered).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as Error).message).toContain(line);
    expect(await backend.readBack(t, good.rendered)).toEqual([]);
    await backend.teardown(t);
  }

  for (const mode of ['legacy', 'nft'] as const) {
    const t = () => target({ iptablesMode: mode, syncTimeoutMs: 60_000 });
    const swap = (r: Rendered<IptResult>, from: RegExp, to: string) => {
      const lines = r.payload.payload.split('\n');
      const i = lines.findIndex((l) => from.test(l));
      lines[i] = lines[i]!.replace(from, to);
      return { rendered: { ...r, payload: { ...r.payload, payload: lines.join('\n') } }, line: lines[i]! };
    };
    it(`iptables-restore (${mode}): a jump to a missing chain in the nat table`, async () => {
      await expectRejected(iptablesRestore, t(), (r) => swap(r, /-j KUBE-SVC-\w+$/, '-j KUBE-NO-SUCH-CHAIN'));
    });
    it(`iptables-restore (${mode}): a bad rule in the filter table leaves nat untouched too`, async () => {
      await expectRejected(iptablesRestore, t(), (r) =>
        swap(r, /^-A KUBE-FORWARD .*-j ACCEPT$/, '-A KUBE-FORWARD -m conntrack --ctstate BOGUS -j ACCEPT'),
      );
    });
    it(`iptables-restore (${mode}): a full sync rejected in nat leaves no rule of ours in either table`, async () => {
      const target = t();
      await iptablesRestore.teardown(target);
      const { rendered, line } = swap(
        iptablesRestore.render(undefined, after, target.cfg, target.options),
        /-j KUBE-SVC-\w+$/,
        '-j KUBE-NO-SUCH-CHAIN',
      );
      const err = await iptablesRestore.apply(target, rendered).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BenchError);
      expect((err as Error).message).toContain(line);
      // The jump step made our chains and the jumps into them; the filter chains are empty again.
      const saved = await exec.run({ netns: target.netns, argv: [iptablesTools(mode).save] });
      expect(saved.stdout.split('\n').filter((l) => l.startsWith('-A KUBE-'))).toEqual([]);
      expect(saved.stdout).toContain(':KUBE-SERVICES');
      await iptablesRestore.teardown(target);
    });
  }

  it('nft: a rule jumping to a missing chain fails the whole nft -f transaction', async () => {
    await expectRejected(nft, target({ iptablesMode: 'nft', syncTimeoutMs: 60_000 }), (r: Rendered<NftResult>) => {
      const line = 'add rule ip kube-proxy services jump no-such-chain';
      return { rendered: { ...r, payload: { ...r.payload, script: `${r.payload.script}${line}\n` } }, line };
    });
  });
});
