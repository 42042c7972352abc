import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import koffi from 'koffi';
import { BenchError } from '../../src/errors.js';
import { fromRoot } from '../../src/package-root.js';
import type { NodeTarget } from '../types.js';
import { ATTACH, check, ENOENT, libbpf, LibbpfError, objGet, type AttachPoint } from './libbpf.js';

// Loading and attaching (README.md, "Hooks"): the object is opened and loaded in-process by libbpf,
// its maps and programs pinned under the run's bpffs, the four sock_addr programs attached to the
// run's cgroup (exclusive attach: a second proxy on the same cgroup fails loudly), and the two tc
// programs attached to the node's external devices with one `tc -batch` inside the node namespace.

/** Where scripts/build-bpf puts the object: beside the C source. */
export function objectPath(): string | undefined {
  const path = fromRoot('backends/ebpf/bpf/proxy.o');
  return existsSync(path) ? path : undefined;
}

export const SOCK_PROGRAMS: readonly { name: string; hook: AttachPoint }[] = [
  { name: 'sock4_connect', hook: 'connect4' },
  { name: 'sock4_sendmsg', hook: 'sendmsg4' },
  { name: 'sock4_recvmsg', hook: 'recvmsg4' },
  { name: 'sock4_getpeername', hook: 'getpeername4' },
];
export const TC_PROGRAMS: readonly { name: string; direction: 'ingress' | 'egress' }[] = [
  { name: 'nodeport_ingress', direction: 'ingress' },
  { name: 'nodeport_egress', direction: 'egress' },
];
export const MAPS = ['svc_map', 'revnat_map', 'ct_map', 'aff_map'] as const;

export interface Pins {
  cgroup: string;
  bpffs: string;
  devices: string[];
  maps: string;
  progs: string;
}

/** The run's paths, or a clear error when the sandbox did not provide them. */
export function pinsOf(t: NodeTarget): Pins {
  if (t.cgroup === undefined || t.bpffs === undefined || t.devices === undefined || t.devices.length === 0)
    throw new BenchError("the eBPF backend needs the run's cgroup2 directory, bpffs mount and external devices", {
      hint: 'cgroup2 must be mounted (bench doctor); the sandbox creates the rest',
    });
  return { cgroup: t.cgroup, bpffs: t.bpffs, devices: t.devices, maps: `${t.bpffs}/maps`, progs: `${t.bpffs}/progs` };
}

export const mapPin = (p: Pins, name: (typeof MAPS)[number]): string => `${p.maps}/${name}`;
export const isLoaded = (p: Pins): boolean => existsSync(mapPin(p, 'svc_map'));

const tcAttach = (p: Pins): string =>
  p.devices
    .flatMap((dev) => [
      `qdisc add dev ${dev} clsact`,
      ...TC_PROGRAMS.map((prog) => `filter add dev ${dev} ${prog.direction} bpf direct-action object-pinned ${p.progs}/${prog.name}`),
    ])
    .map((l) => `${l}\n`)
    .join('');

/** Loads, pins and attaches the object and the cgroup programs (`loaded`), then starts attaching
 * the tc programs: `attached` settles when `tc` is done (the caller writes the maps meanwhile)
 * with the number of processes spawned. tc is spawned by the first reaction to `loaded`, so it is
 * running before a caller that awaits `loaded` goes on; a failed load never starts tc. */
export function load(t: NodeTarget, p: Pins): { loaded: Promise<void>; attached: Promise<number> } {
  const loaded = t.exec.alter(
    async () => {
      const object = objectPath();
      if (object === undefined)
        throw new BenchError('the eBPF object backends/ebpf/bpf/proxy.o is missing', { hint: 'run scripts/build-bpf (or scripts/setup)' });
      loadObject(object, p);
    },
    () => undefined,
  );
  const attached = loaded.then(() => t.exec.run({ netns: t.netns, argv: ['tc', '-batch', '-'], stdin: tcAttach(p) })).then(() => 1);
  return { loaded, attached };
}

function loadObject(object: string, p: Pins): void {
  const lib = libbpf();
  mkdirSync(p.maps, { recursive: true });
  mkdirSync(p.progs, { recursive: true });
  const obj = lib.bpf_object__open_file(object, null);
  if (obj === null) throw new LibbpfError('bpf_object__open_file', koffi.errno(), object);
  const cg = openSync(p.cgroup, 'r');
  try {
    check('bpf_object__load', object, lib.bpf_object__load(obj));
    check('bpf_object__pin_maps', p.maps, lib.bpf_object__pin_maps(obj, p.maps));
    for (const { name } of [...SOCK_PROGRAMS, ...TC_PROGRAMS]) {
      const prog = lib.bpf_object__find_program_by_name(obj, name);
      if (prog === null) throw new LibbpfError('bpf_object__find_program_by_name', ENOENT, name);
      check('bpf_program__pin', `${p.progs}/${name}`, lib.bpf_program__pin(prog, `${p.progs}/${name}`));
    }
    for (const { name, hook } of SOCK_PROGRAMS) {
      const fd = lib.bpf_program__fd(lib.bpf_object__find_program_by_name(obj, name));
      check('bpf_prog_attach', `${name} to ${p.cgroup} ${hook}`, lib.bpf_prog_attach(fd, cg, ATTACH[hook], 0));
    }
  } finally {
    closeSync(cg);
    lib.bpf_object__close(obj); // pins and attachments keep what they need
  }
}

/** Detaches and unpins whatever is there (idempotent): tc filters go with the clsact qdisc, the
 * cgroup programs are detached by their pins, then the pins are removed, which frees the programs
 * and maps. */
export async function unload(t: NodeTarget, p: Pins): Promise<void> {
  for (const dev of p.devices) await t.exec.run({ netns: t.netns, argv: ['tc', 'qdisc', 'del', 'dev', dev, 'clsact'], allowFailure: true });
  await t.exec.alter(
    async () => detachAndUnpin(p),
    () => undefined,
  );
}

function detachAndUnpin(p: Pins): void {
  if (existsSync(p.cgroup)) {
    const cg = openSync(p.cgroup, 'r');
    try {
      for (const { name, hook } of SOCK_PROGRAMS) {
        const pin = `${p.progs}/${name}`;
        if (!existsSync(pin)) continue;
        const fd = objGet(pin);
        try {
          const r = libbpf().bpf_prog_detach2(fd, cg, ATTACH[hook]);
          if (r < 0 && -r !== ENOENT) check('bpf_prog_detach2', `${name} from ${p.cgroup}`, r);
        } finally {
          closeSync(fd);
        }
      }
    } finally {
      closeSync(cg);
    }
  }
  rmSync(p.maps, { recursive: true, force: true });
  rmSync(p.progs, { recursive: true, force: true });
}
