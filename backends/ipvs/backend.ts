import { BenchError } from '../../src/errors.js';
import { CommandError } from '../../src/exec/index.js';
import { binary, kernelOptions, verdict } from '../preflight.js';
import { ensureJumps, flushAll, restoreError } from '../shared/iptables/apply.js';
import { iptablesFlavourChecks, iptablesTools } from '../shared/iptables/tools.js';
import type { Backend, NodeTarget, Rendered } from '../types.js';
import { diff, parseInstalled } from './readback.js';
import { DUMMY_DEVICE, FILTER_CHAINS, JUMP_RULES, NAT_CHAINS, renderFull, renderPartial, SYSCTLS, type Payload } from './render.js';

/** `ipvsadm -R` runs every line whatever happens and may still exit 0: its stderr is the only
 * sign of a failed line ("Service already exists", "No such destination"), and it does not say
 * which. */
async function ipvsadm(t: NodeTarget, argv: string[], input: string): Promise<void> {
  const r = await t.exec.run({ netns: t.netns, argv, stdin: input, allowFailure: true });
  const errors = r.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (r.exitCode === 0 && errors.length === 0) return;
  throw new BenchError(`${argv.join(' ')} failed (exit ${r.exitCode}): ${errors.slice(0, 3).join('; ') || 'no message'}`, {
    hint: 'ipvsadm -R applies line by line: the lines without an error were applied; `bench clean` or teardown removes them',
  });
}

/** `ipset restore` stops at the first bad line ("Error in line N: …") and applies nothing of it. */
async function ipsetRestore(t: NodeTarget, argv: string[], input: string): Promise<void> {
  await t.exec.run({ netns: t.netns, argv, stdin: input }).catch((e: unknown) => {
    if (!(e instanceof CommandError)) throw e;
    const m = /Error in line (\d+): (.*)/.exec(e.stderr);
    const line = m ? input.split('\n')[Number(m[1]) - 1] : undefined;
    throw new BenchError(`ipset restore rejected the input${m ? ` at line ${m[1]}: ${line}\n${m[2]}` : `: ${e.stderr.trim()}`}`, {
      hint: 'ipset restore stops at the failing line',
      cause: e,
    });
  });
}

/** `ip -batch -` stops at the first failing line and names it ("Command failed -:N"). */
async function ipBatch(t: NodeTarget, input: string): Promise<void> {
  await t.exec.run({ netns: t.netns, argv: ['ip', '-batch', '-'], stdin: input }).catch((e: unknown) => {
    if (!(e instanceof CommandError)) throw e;
    throw new BenchError(`ip -batch failed on kube-ipvs0's addresses: ${e.stderr.trim()}`, { cause: e });
  });
}

/** createAndLinkKubeChain, run on every sync: EnsureChain (`-N`; "already exists" is fine) for
 * each of kube-proxy's chains, then EnsureRule(Prepend) (`-C`, and `-I` when the check fails) for
 * each jump, one process after another as kube-proxy runs them (one shell: see ensureJumps). */
async function createAndLinkKubeChain(t: NodeTarget, iptables: string): Promise<number> {
  const chains = [...NAT_CHAINS.map((c) => ['nat', c] as const), ...FILTER_CHAINS.map((c) => ['filter', c] as const)];
  return ensureJumps(t, iptables, JUMP_RULES, { chains, createJumpChains: false });
}

export const ipvs: Backend<Payload> = {
  name: 'ipvs',
  title: "kube-proxy's IPVS mode: virtual servers per VIP, ipsets and the iptables rules IPVS still needs",
  // kube-proxy's IPVS mode still writes its iptables rules (masquerade, the ipset matches) with
  // iptables-restore, so --iptables-mode picks those tools here too.
  iptablesFlavour: true,
  preflight: async (o, exec) =>
    verdict([
      await binary(exec, 'ipvsadm', ['--version'], 'ipvsadm'),
      await binary(exec, 'ipset', ['--version'], 'ipset'),
      ...(await iptablesFlavourChecks(exec, 'iptables-restore', o.iptablesMode)),
      // kube-ipvs0 is a dummy interface (reference §3), so IPVS mode needs CONFIG_DUMMY too.
      ...kernelOptions([
        'CONFIG_IP_VS',
        'CONFIG_IP_VS_RR',
        'CONFIG_IP_VS_NFCT',
        'CONFIG_IP_SET',
        'CONFIG_IP_SET_HASH_IP',
        'CONFIG_IP_SET_HASH_IPPORT',
        'CONFIG_IP_SET_HASH_IPPORTIP',
        'CONFIG_IP_SET_BITMAP_PORT',
        'CONFIG_NETFILTER_XT_SET',
        'CONFIG_DUMMY',
      ]),
    ]),

  render(prev, next, cfg): Rendered<Payload> {
    const p = prev === undefined ? renderFull(next, cfg) : renderPartial(prev, next, cfg);
    return { kind: p.kind, payload: p, size: { count: p.stats.lines, unit: 'lines' } };
  },

  // kube-proxy's order (syncProxyRules): dummy device and bound addresses, virtual and real
  // servers, set entries, then the iptables payload that matches on the sets, and last the
  // addresses and virtual servers no longer wanted (here in the same `ipvsadm -R` as the rest).
  async apply(t, { payload: p }) {
    const tools = iptablesTools(t.options.iptablesMode);
    let commands = 0;
    if (p.ensureDevice) {
      // EnsureDummyDevice: "File exists" is fine.
      const r = await t.exec.run({ netns: t.netns, argv: ['ip', 'link', 'add', DUMMY_DEVICE, 'type', 'dummy'], allowFailure: true });
      if (r.exitCode !== 0 && !/File exists/.test(r.stderr)) throw new BenchError(`cannot create ${DUMMY_DEVICE}: ${r.stderr.trim()}`);
      commands++;
    }
    if (p.bind !== '') {
      await ipBatch(t, p.bind);
      commands++;
    }
    if (p.kind === 'full' && p.ipvsadm === '') {
      // Nothing to add: a full sync still leaves no other virtual server behind.
      await ipvsadm(t, ['ipvsadm', '-C'], '');
      commands++;
    } else if (p.ipvsadm !== '') {
      // ipvsadm-restore is `ipvsadm -C` then `ipvsadm -R` (a shell script: bash, grep, 2 ipvsadm).
      await ipvsadm(t, p.kind === 'full' ? ['ipvsadm-restore'] : ['ipvsadm', '-R'], p.ipvsadm);
      commands += p.kind === 'full' ? 4 : 1;
    }
    if (p.ensureDevice) {
      // After ipvsadm: net.ipv4.vs.* exists once the ip_vs module is loaded.
      await t.exec.run({ netns: t.netns, argv: ['sysctl', '-q', '-w', ...SYSCTLS.map(([k, v]) => `${k}=${v}`)] });
      commands++;
    }
    if (p.ipset !== '') {
      await ipsetRestore(t, p.kind === 'full' ? ['ipset', 'restore', '-exist'] : ['ipset', 'restore'], p.ipset);
      commands++;
    }
    commands += await createAndLinkKubeChain(t, tools.iptables);
    await t.exec
      .run({ netns: t.netns, argv: [tools.restore, '-w', '--noflush', '--counters'], stdin: p.iptables })
      .catch((e) => restoreError(e, p.iptables, tools.restore));
    commands++;
    if (p.unbind !== '') {
      await ipBatch(t, p.unbind);
      commands++;
    }
    return { commands };
  },

  async readBack(t, { payload: p }) {
    const run = (argv: string[]) => t.exec.run({ netns: t.netns, argv });
    const { save } = iptablesTools(t.options.iptablesMode);
    const [vs, sets, addrs, rules, sysctls] = await Promise.all([
      run(['ipvsadm', '-S', '-n']),
      run(['ipset', 'save']),
      t.exec.run({ netns: t.netns, argv: ['ip', '-o', '-4', 'addr', 'show', 'dev', DUMMY_DEVICE], allowFailure: true }),
      run([save]),
      run(['sysctl', ...SYSCTLS.map(([k]) => k)]),
    ]);
    const installed = parseInstalled({
      ipvsadm: vs.stdout,
      ipset: sets.stdout,
      addresses: addrs.exitCode === 0 ? addrs.stdout : undefined,
      iptables: rules.stdout,
      sysctls: sysctls.stdout,
    });
    return diff(p.desired, installed, SYSCTLS);
  },

  /** The kernel tools alone on the same full-sync payload: the device, `ip -batch`, `ipvsadm -R`,
   * `ipset restore` and `iptables-restore`, without kube-proxy's per-chain and per-jump iptables
   * calls and the sysctls (the jump rules are then missing: for timing only). */
  async rawLoad(t, { payload: p }) {
    const { restore } = iptablesTools(t.options.iptablesMode);
    const run = (argv: string[], stdin: string) => t.exec.run({ netns: t.netns, argv, stdin });
    await t.exec.run({ netns: t.netns, argv: ['ip', 'link', 'add', DUMMY_DEVICE, 'type', 'dummy'] });
    await run(['ip', '-batch', '-'], p.bind);
    await run(['ipvsadm', '-R'], p.ipvsadm);
    await run(['ipset', 'restore', '-exist'], p.ipset);
    await run([restore, '-w', '--noflush'], p.iptables);
  },

  // Everything in the node namespace: iptables rules first (a set in use cannot be destroyed),
  // then the sets, the IPVS table, the dummy device and the sysctls (back to the kernel's 0;
  // ip_forward stays, the sandbox turned it on).
  async teardown(t) {
    await flushAll(t);
    const quiet = (argv: string[]) => t.exec.run({ netns: t.netns, argv, allowFailure: true });
    // Without a name, destroy removes every set of the namespace: the node namespace is the run's
    // own and only this backend creates sets in it.
    await quiet(['ipset', 'destroy']);
    await quiet(['ipvsadm', '-C']);
    await quiet(['ip', 'link', 'del', DUMMY_DEVICE]);
    await quiet(['sysctl', '-q', '-w', ...SYSCTLS.filter(([k]) => k.startsWith('net.ipv4.vs.')).map(([k]) => `${k}=0`)]);
  },
};
