import { release } from 'node:os';
import { binary, bpffs, btf, cgroup2, kernelOptions, verdict } from '../preflight.js';
import type { Backend, Check, NodeTarget, Rendered } from '../types.js';
import { describeKey, describeValue, encodeKeys, type SvcEntry } from './layout.js';
import type { AttachPoint } from './libbpf.js';
import { isLoaded, load, mapPin, objectPath, pinsOf, SOCK_PROGRAMS, TC_PROGRAMS, unload } from './loader.js';
import { deleteBatch, dump, updateBatch, withMap } from './maps.js';
import { renderFull, renderPartial, type EbpfPayload } from './render.js';

// svcbench's eBPF service proxy after Cilium's kube-proxy replacement (README.md): socket-level load
// balancing on the run's cgroup for ClusterIP (and NodePort from pods and the node), tc on the
// node's external devices for NodePort from outside; syncs are libbpf batch updates of svc_map.

/** getpeername4 hooks need 5.8; bpf_get_netns_cookie in sock_addr programs 5.7; map batch ops 5.6. */
const MIN_KERNEL = [5, 8] as const;

function kernelCheck(): Check {
  const [major = 0, minor = 0] = release()
    .split('.')
    .map((x) => Number.parseInt(x, 10));
  const ok = major > MIN_KERNEL[0] || (major === MIN_KERNEL[0] && minor >= MIN_KERNEL[1]);
  return ok
    ? { what: 'kernel', state: 'ok', detail: release() }
    : { what: 'kernel', state: 'missing', detail: `${release()} is older than ${MIN_KERNEL.join('.')}`, fix: 'a kernel ≥ 5.8' };
}

function objectCheck(): Check {
  const at = objectPath();
  return at
    ? { what: 'proxy.o', state: 'ok', detail: at }
    : { what: 'proxy.o', state: 'missing', detail: 'not built', fix: 'scripts/build-bpf (run by scripts/setup)' };
}

/** libbpf.so.1 as the loader will load it: through the dynamic linker's search path. */
async function libbpfCheck(): Promise<Check> {
  try {
    (await import('./libbpf.js')).libbpf();
    return { what: 'libbpf.so.1', state: 'ok', detail: 'loads' };
  } catch (e) {
    return { what: 'libbpf.so.1', state: 'missing', detail: (e as Error).message, fix: 'apt-get install libbpf1' };
  }
}

/** bpftool's names for the attach types: its own short ones, or libbpf's (bpftool 7.1 prints these). */
const ATTACH_NAMES: Record<AttachPoint, string[]> = {
  connect4: ['connect4', 'cgroup_inet4_connect'],
  sendmsg4: ['sendmsg4', 'cgroup_udp4_sendmsg'],
  recvmsg4: ['recvmsg4', 'cgroup_udp4_recvmsg'],
  getpeername4: ['getpeername4', 'cgroup_inet4_getpeername'],
};

/** Installed programs: the four sock_addr programs on the run's cgroup and both tc programs on
 * every device, by name (bpftool and tc JSON, outside any timed region). */
async function attachmentDiffs(t: NodeTarget): Promise<string[]> {
  const p = pinsOf(t);
  const diffs: string[] = [];
  const cg = await t.exec.run({ argv: ['bpftool', '-j', 'cgroup', 'show', p.cgroup] });
  const attached = JSON.parse(cg.stdout || '[]') as { attach_type: string; name: string }[];
  for (const { name, hook } of SOCK_PROGRAMS)
    if (!attached.some((a) => a.name === name && ATTACH_NAMES[hook].includes(a.attach_type)))
      diffs.push(`${name} is not attached to ${p.cgroup} (${hook})`);
  if (attached.length !== SOCK_PROGRAMS.length) diffs.push(`${attached.length} programs on ${p.cgroup}, expected ${SOCK_PROGRAMS.length}`);
  for (const dev of p.devices)
    for (const { name, direction } of TC_PROGRAMS) {
      const r = await t.exec.run({ netns: t.netns, argv: ['tc', '-j', 'filter', 'show', 'dev', dev, direction] });
      const filters = JSON.parse(r.stdout || '[]') as { options?: { bpf_name?: string } }[];
      if (!filters.some((f) => f.options?.bpf_name?.startsWith(name))) diffs.push(`${name} is not attached to ${dev} ${direction}`);
    }
  return diffs;
}

function mapDiffs(desired: Map<string, SvcEntry>, installed: SvcEntry[]): string[] {
  const diffs: string[] = [];
  const seen = new Set<string>();
  for (const e of installed) {
    const k = describeKey(e);
    seen.add(k);
    const want = desired.get(k);
    if (!want) diffs.push(`unexpected ${k} → ${describeValue(e)}`);
    else if (describeValue(want) !== describeValue(e)) diffs.push(`${k}: ${describeValue(e)}, expected ${describeValue(want)}`);
  }
  for (const [k, want] of desired) if (!seen.has(k)) diffs.push(`missing ${k} → ${describeValue(want)}`);
  return diffs;
}

export const ebpf: Backend<EbpfPayload> = {
  name: 'ebpf',
  title: 'socket-level load balancing (cgroup connect4/sendmsg4) and tc NodePort, after Cilium',
  iptablesFlavour: false,
  preflight: async (_o, exec) =>
    verdict([
      kernelCheck(),
      await binary(exec, 'clang', ['--version'], 'clang'),
      await binary(exec, 'bpftool', ['version'], 'bpftool'),
      objectCheck(),
      await libbpfCheck(),
      ...kernelOptions(['CONFIG_BPF_SYSCALL', 'CONFIG_BPF_JIT', 'CONFIG_CGROUP_BPF', 'CONFIG_NET_CLS_BPF', 'CONFIG_NET_SCH_INGRESS']),
      btf(),
      cgroup2(),
      bpffs(),
    ]),

  render(prev, next, cfg): Rendered<EbpfPayload> {
    const payload = prev === undefined ? renderFull(next, cfg) : renderPartial(prev, next, cfg);
    return {
      kind: prev === undefined ? 'full' : 'partial',
      payload,
      size: { count: payload.update.count + payload.remove.count, unit: 'map entries' },
    };
  },

  /** Loads the programs when they are not there yet, then writes the entries in one batch and
   * deletes stale ones in another. A full sync onto existing maps also deletes every entry the
   * new state does not have (Cilium's restore-then-GC after an agent restart). */
  async apply(t, { kind, payload }) {
    const p = pinsOf(t);
    const fresh = !isLoaded(p);
    // tc attaches in its own process while this one writes the maps.
    const { loaded, attached: tc } = fresh ? load(t, p) : { loaded: Promise.resolve(), attached: Promise.resolve(0) };
    let commitAt: number;
    try {
      await loaded;
      commitAt = performance.now();
      await t.exec.alter(
        async () =>
          withMap(mapPin(p, 'svc_map'), (fd) => {
            updateBatch(fd, payload.update);
            deleteBatch(fd, payload.remove.keys, payload.remove.count);
            if (kind === 'full' && !fresh) {
              const desired = payload.desired();
              const stale = dump(fd).filter((e) => !desired.has(describeKey(e)));
              if (stale.length > 0) deleteBatch(fd, encodeKeys(stale), stale.length);
            }
          }),
        () => undefined,
      );
    } catch (e) {
      await tc.catch(() => {}); // never leave tc running past a failed update
      throw e;
    }
    return { commands: await tc, commitAt };
  },

  async readBack(t, { payload }) {
    const p = pinsOf(t);
    if (!isLoaded(p)) return [`nothing is loaded: ${mapPin(p, 'svc_map')} is not pinned`];
    const installed = withMap(mapPin(p, 'svc_map'), dump);
    return [...mapDiffs(payload.desired(), installed), ...(await attachmentDiffs(t))];
  },

  async teardown(t) {
    await unload(t, pinsOf(t));
  },
};
