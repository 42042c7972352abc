import { constants } from 'node:os';
import koffi from 'koffi';

// Debian's libbpf.so.1 (package libbpf1), called in-process through koffi: one bpf() syscall per
// batch of map entries instead of one bpftool process per entry
// (../shared/reference/environment.md: 10,000 entries in 0.05 s against 48 s). libbpf 1.x
// returns -errno from the low-level API and NULL plus errno from the object API.

/** A libbpf call failed: names the call, its argument and the errno. */
export class LibbpfError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    what: string,
  ) {
    super(`${call}(${what}) failed: ${errnoName(errno)}`);
  }
}

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? `errno ${n}`;

export const ENOENT = constants.errno.ENOENT;

// enum bpf_attach_type (linux/bpf.h) for the four sock_addr hooks.
export const ATTACH = {
  connect4: 10, // BPF_CGROUP_INET4_CONNECT
  sendmsg4: 14, // BPF_CGROUP_UDP4_SENDMSG
  recvmsg4: 19, // BPF_CGROUP_UDP4_RECVMSG
  getpeername4: 29, // BPF_CGROUP_INET4_GETPEERNAME
} as const;
export type AttachPoint = keyof typeof ATTACH;

interface Lib {
  bpf_obj_get: (path: string) => number;
  bpf_map_update_batch: (fd: number, keys: Buffer, values: Buffer, count: number[], opts: null) => number;
  bpf_map_delete_batch: (fd: number, keys: Buffer, count: number[], opts: null) => number;
  bpf_map_lookup_batch: (
    fd: number,
    inBatch: Buffer | null,
    outBatch: Buffer,
    keys: Buffer,
    values: Buffer,
    count: number[],
    opts: null,
  ) => number;
  bpf_prog_attach: (progFd: number, targetFd: number, type: number, flags: number) => number;
  bpf_prog_detach2: (progFd: number, targetFd: number, type: number) => number;
  bpf_object__open_file: (path: string, opts: null) => unknown;
  bpf_object__load: (obj: unknown) => number;
  bpf_object__pin_maps: (obj: unknown, path: string) => number;
  bpf_object__find_program_by_name: (obj: unknown, name: string) => unknown;
  bpf_program__pin: (prog: unknown, path: string) => number;
  bpf_program__fd: (prog: unknown) => number;
  bpf_object__close: (obj: unknown) => void;
}

let lib: Lib | undefined;

/** Loads libbpf.so.1 on first use (preflight checks that it loads; dry runs never need it). */
export function libbpf(): Lib {
  if (lib) return lib;
  const so = koffi.load('libbpf.so.1');
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  const f = (sig: string) => so.func(sig);
  lib = {
    bpf_obj_get: f('int bpf_obj_get(const char *pathname)'),
    bpf_map_update_batch: f(
      'int bpf_map_update_batch(int fd, const void *keys, const void *values, _Inout_ uint32_t *count, const void *opts)',
    ),
    bpf_map_delete_batch: f('int bpf_map_delete_batch(int fd, const void *keys, _Inout_ uint32_t *count, const void *opts)'),
    bpf_map_lookup_batch: f(
      'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const void *opts)',
    ),
    bpf_prog_attach: f('int bpf_prog_attach(int prog_fd, int attachable_fd, int type, unsigned int flags)'),
    bpf_prog_detach2: f('int bpf_prog_detach2(int prog_fd, int attachable_fd, int type)'),
    bpf_object__open_file: f('bpf_object *bpf_object__open_file(const char *path, const void *opts)'),
    bpf_object__load: f('int bpf_object__load(bpf_object *obj)'),
    bpf_object__pin_maps: f('int bpf_object__pin_maps(bpf_object *obj, const char *path)'),
    bpf_object__find_program_by_name: f('bpf_program *bpf_object__find_program_by_name(bpf_object *obj, const char *name)'),
    bpf_program__pin: f('int bpf_program__pin(bpf_program *prog, const char *path)'),
    bpf_program__fd: f('int bpf_program__fd(bpf_program *prog)'),
    bpf_object__close: f('void bpf_object__close(bpf_object *obj)'),
  } as Lib;
  return lib;
}

/** Negative returns are -errno (libbpf 1.x). */
export function check(call: string, what: string, r: number): number {
  if (r < 0) throw new LibbpfError(call, -r, what);
  return r;
}

/** The fd of a pinned object (map or program); the caller closes it. */
export function objGet(path: string): number {
  return check('bpf_obj_get', path, libbpf().bpf_obj_get(path));
}
