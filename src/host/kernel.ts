import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

/** Kernel build options from /proc/config.gz (or /boot/config-RELEASE): 'y', 'm', or absent.
 * Returns undefined when neither is readable; callers then fall back to a probe. */
export function readKernelConfig(): Map<string, string> | undefined {
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    const boot = `/boot/config-${release()}`;
    if (existsSync(boot)) text = readFileSync(boot, 'utf8');
  }
  if (text === undefined) return undefined;
  const config = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) config.set(m[1]!, m[2]!);
  }
  return config;
}

/** This process's mounts from /proc/self/mountinfo (proc(5): field 5 is the mount point; the
 * filesystem type is the first field after the " - " separator). Empty when there is none. */
export function mounts(): { point: string; fstype: string }[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return []; // not Linux
  }
  return text
    .split('\n')
    .filter((l) => l.includes(' - '))
    .map((line) => {
      const [pre, post] = line.split(' - ') as [string, string];
      return { point: pre.split(' ')[4]!, fstype: post.split(' ')[0]! };
    });
}

/** cgroup2's mount point (here the hybrid layout puts it at /sys/fs/cgroup/unified). */
export const cgroup2Mount = (): string | undefined => mounts().find((m) => m.fstype === 'cgroup2')?.point;

export const bpffsSupported = (): boolean => {
  try {
    return /\sbpf$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
};

export const btfAvailable = (): boolean => existsSync('/sys/kernel/btf/vmlinux');

/**
 * This process's own cgroup in the cgroup v1 hierarchy that has `controller`: its directory (e.g.
 * `/sys/fs/cgroup/memory/process_api/<id>`) and its path in the hierarchy (`/process_api/<id>`;
 * `/` is the hierarchy's root), or undefined without such a hierarchy. Joins
 * /proc/self/cgroup's path ("4:memory:/process_api/<id>") with the mount of that hierarchy
 * (/proc/self/mountinfo: fstype cgroup, the controller among the super options; the path is
 * relative to the mount's root).
 */
export function ownCgroupV1Dir(
  controller: string,
  mountinfo: string = readOr('/proc/self/mountinfo'),
  cgroups: string = readOr('/proc/self/cgroup'),
): { dir: string; path: string } | undefined {
  const own = cgroups
    .split('\n')
    .map((l) => /^\d+:([^:]*):(.*)$/.exec(l))
    .find((m) => m !== null && m[1]!.split(',').includes(controller));
  if (!own) return undefined;
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup' || !(superOpts ?? '').split(',').includes(controller)) continue;
    const f = pre.split(' ');
    const root = f[3]!;
    const point = f[4]!;
    const path = own[2]!;
    if (root === '/') return { dir: path === '/' ? point : `${point}${path}`, path };
    if (path === root || path.startsWith(`${root}/`)) return { dir: `${point}${path.slice(root.length)}`, path };
  }
  return undefined;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
