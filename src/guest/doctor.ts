import { existsSync, readFileSync } from 'node:fs';
import { binary, verdict } from '../../backends/preflight.js';
import type { Check, Preflight } from '../../backends/types.js';
import type { Exec } from '../exec/index.js';
import { cachedImage, CACHE_ROOT, knownKernelPackage } from './image.js';

// Can this machine run a command in a guest kernel? The host tools the image build and the boot
// need, and the image: cached, or Debian's kernel package known to apt so the first guest run can
// fetch it. Reads only; never builds or downloads.

const fix = (pkg: string) => `apt-get install ${pkg} (or run scripts/setup)`;

/** Where the guest's root is visible: the guest mounts a fresh /run (and its own /proc, /sys,
 * /dev), so the cache must not live under them; /tmp is the host's, seen through the overlay. */
const hiddenInGuest = (path: string): boolean => /^\/(run|proc|sys|dev)(\/|$)/.test(path);

async function guestChecks(exec: Exec, opts: { lookUpPackage: boolean }): Promise<Check[]> {
  const checks: Check[] = [
    await binary(exec, 'qemu-system-x86_64', ['--version'], 'qemu-system-x86'),
    busyboxStatic(),
    await binary(exec, 'cpio', ['--version'], 'cpio'),
    await binary(exec, 'xz', ['--version'], 'xz-utils'),
    await binary(exec, 'dpkg-deb', ['--version'], 'dpkg'),
    await binary(exec, 'modprobe', ['--version'], 'kmod'),
  ];
  if (hiddenInGuest(CACHE_ROOT))
    checks.push({
      what: 'image cache',
      state: 'missing',
      detail: `${CACHE_ROOT} is under a directory the guest replaces`,
      fix: 'set SVCBENCH_GUEST_CACHE to a directory outside /run, /proc, /sys and /dev',
    });
  const image = cachedImage();
  if (image) checks.push({ what: 'guest image', state: 'ok', detail: `${image.version}, cached in ${CACHE_ROOT}` });
  else if (opts.lookUpPackage) {
    // apt-cache itself may be missing: then the package is as unknown.
    const pkg = await knownKernelPackage(exec).catch(() => undefined);
    checks.push(
      pkg
        ? { what: 'guest image', state: 'ok', detail: `not built yet: the first guest run downloads ${pkg} and builds it (about a minute)` }
        : {
            what: 'guest image',
            state: 'missing',
            detail: 'not cached, and apt does not know linux-image-amd64',
            fix: 'apt-get update (the image is built from Debian 12 package lists)',
          },
    );
  }
  checks.push({
    what: 'accelerator',
    state: 'ok',
    detail: 'TCG (software emulation: guest figures compare only with other guest figures)',
  });
  return checks;
}

export async function guestVerdict(exec: Exec, opts: { lookUpPackage: boolean }): Promise<Preflight> {
  return verdict(await guestChecks(exec, opts));
}

/** Stage 1 runs busybox as the initramfs's only binary: it must be the static build. */
function busyboxStatic(): Check {
  const path = '/bin/busybox';
  const missing: Check = { what: 'busybox (static)', state: 'missing', fix: fix('busybox-static') };
  if (!existsSync(path)) return missing;
  try {
    // A dynamically linked ELF names its loader in a PT_INTERP segment ("/lib64/ld-linux…").
    return readFileSync(path).includes('/lib64/ld-linux')
      ? { ...missing, detail: `${path} is dynamically linked` }
      : { what: 'busybox (static)', state: 'ok', detail: path };
  } catch {
    return missing;
  }
}
