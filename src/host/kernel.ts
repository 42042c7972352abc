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

/** cgroup2's mount point, from mountinfo (here the hybrid layout puts it at /sys/fs/cgroup/unified). */
export function cgroup2Mount(): string | undefined {
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [pre, post] = line.split(' - ');
      if (post?.startsWith('cgroup2 ')) return pre!.split(' ')[4];
    }
  } catch {
    // not Linux
  }
  return undefined;
}

export const bpffsSupported = (): boolean => {
  try {
    return /\sbpf$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
};

export const btfAvailable = (): boolean => existsSync('/sys/kernel/btf/vmlinux');
