import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { BenchError } from '../errors.js';
import type { Exec } from '../exec/index.js';
import type { Recorder } from '../sandbox/state.js';
import { IMAGE_FORMAT, renderStage1, STAGE1_MODULES } from './stage1.js';

// The guest image: Debian's own kernel package (fetched with `apt-get download`, unpacked, never
// installed on the host), its modules with a depmod index, the kernel as an uncompressed ELF when it
// can be extracted, and the stage-1 initramfs. Built once per kernel version under CACHE_ROOT and
// reused; a build goes to a temporary directory (recorded in the run's state file first) that is
// renamed into place when complete, so a killed build never leaves a half image behind.
// Recipe measured here: ../shared/reference/environment.md, "IPVS in a guest kernel".

export const CACHE_ROOT = process.env.SVCBENCH_GUEST_CACHE ?? '/var/cache/svcbench/guest';

/** Debian's metapackage that depends on the current kernel image of the release. */
const META_PACKAGE = 'linux-image-amd64';

const imageSchema = z.object({
  format: z.number(),
  version: z.string(),
  package: z.string(),
  /** The kernel qemu boots: an ELF with a PVH entry point (no decompression under emulation), or
   * the bzImage when none could be extracted. */
  kernel: z.string(),
  initrd: z.string(),
  /** The unpacked package (lib/modules/VERSION with its depmod index, boot/config-VERSION). */
  root: z.string(),
  builtAt: z.string(),
  buildSeconds: z.number(),
});
export type GuestImage = z.infer<typeof imageSchema>;

/** The newest complete image of the current format in the cache, if any. */
export function cachedImage(root = CACHE_ROOT): GuestImage | undefined {
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return undefined;
  }
  const images = names.flatMap((n) => {
    try {
      const img = imageSchema.parse(JSON.parse(readFileSync(join(root, n, 'image.json'), 'utf8')));
      return img.format === IMAGE_FORMAT && existsSync(img.kernel) && existsSync(img.initrd) ? [img] : [];
    } catch {
      return [];
    }
  });
  return images.sort((a, b) => b.builtAt.localeCompare(a.builtAt))[0];
}

/** The kernel image package `linux-image-amd64` depends on in apt's current lists (e.g.
 * linux-image-6.1.0-56-amd64), or undefined when they do not know it. */
export async function knownKernelPackage(exec: Exec): Promise<string | undefined> {
  const r = await exec.run({ argv: ['apt-cache', 'depends', META_PACKAGE], allowFailure: true });
  return /Depends:\s*(linux-image-[0-9][\w.+-]*)/.exec(r.stdout)?.[1];
}

/** knownKernelPackage, after one `apt-get update` when the package lists do not know it yet. */
async function kernelPackage(exec: Exec): Promise<string> {
  const found =
    (await knownKernelPackage(exec)) ??
    (await exec.run({ argv: ['apt-get', 'update', '-qq'], allowFailure: true }), await knownKernelPackage(exec));
  if (found === undefined)
    throw new BenchError(`cannot find Debian's kernel package: apt-cache depends ${META_PACKAGE} names no linux-image package`, {
      hint: 'the guest kernel comes from Debian 12 package lists: check /etc/apt/sources.list and network access to the archive',
    });
  return found;
}

/** Returns the cached image, building it first when there is none. */
export async function ensureImage(exec: Exec, recorder: Recorder, say: (line: string) => void, tag: string): Promise<GuestImage> {
  const cached = cachedImage();
  if (cached) return cached;
  const started = performance.now();
  const pkg = await kernelPackage(exec);
  const version = pkg.replace(/^linux-image-/, '');
  const final = join(CACHE_ROOT, version);
  const build = join(CACHE_ROOT, `.build-${version}-${tag}`);
  say(`guest: building the guest image for ${version} in ${final} (once; about a minute)…`);
  await recorder.record([{ kind: 'file', path: build }]);
  await mkdir(build, { recursive: true });
  try {
    // apt-get download writes into the current directory: a fixed sh program takes the directory
    // and the package as arguments (never inside the script text).
    await exec.run({ argv: ['sh', '-c', 'cd "$1" && exec apt-get download -qq "$2"', 'svcbench-download', build, pkg] });
    const deb = readdirSync(build).find((n) => n.endsWith('.deb'));
    if (deb === undefined) throw new BenchError(`apt-get download ${pkg} produced no .deb in ${build}`);
    const root = join(build, 'root');
    await exec.run({ argv: ['dpkg-deb', '-x', join(build, deb), root] });
    await rm(join(build, deb), { force: true });
    await exec.run({ argv: ['depmod', '-b', root, version] });
    const vmlinuz = join(root, 'boot', `vmlinuz-${version}`);
    const kernel = (await extractPvhKernel(exec, vmlinuz, join(build, 'vmlinux'))) ? 'vmlinux' : join('root', 'boot', `vmlinuz-${version}`);
    await buildInitramfs(exec, root, version, build, join(final, 'root'));
    const image: GuestImage = {
      format: IMAGE_FORMAT,
      version,
      package: pkg,
      kernel: join(final, kernel),
      initrd: join(final, 'initrd.img'),
      root: join(final, 'root'),
      builtAt: new Date().toISOString(),
      buildSeconds: Math.round((performance.now() - started) / 100) / 10,
    };
    await writeFile(join(build, 'image.json'), `${JSON.stringify(image, null, 1)}\n`);
    // A stale image of an older format (or a half-removed one) makes way for the new one; when a
    // concurrent build got there first, keep its image and drop ours.
    await rm(final, { recursive: true, force: true });
    try {
      await rename(build, final);
    } catch {
      await rm(build, { recursive: true, force: true });
    }
    say(`guest: image ready (${image.buildSeconds} s)`);
    return cachedImage() ?? image;
  } catch (e) {
    await rm(build, { recursive: true, force: true });
    throw e instanceof BenchError ? e : new BenchError(`building the guest image failed: ${(e as Error).message}`, { cause: e });
  }
}

// xz stream magic (Debian builds its x86 kernels with CONFIG_KERNEL_XZ) and the PVH entry note
// (name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY = 18) qemu needs to boot an ELF kernel directly.
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const PVH_NOTE = Buffer.from([0x04, 0, 0, 0, 0x08, 0, 0, 0, 0x12, 0, 0, 0, 0x58, 0x65, 0x6e, 0]);

/** Unpacks the ELF kernel from the bzImage so qemu boots it through its PVH entry point: under
 * emulation, decompressing the 8 MB bzImage in the guest costs seconds of every boot. Returns false
 * (boot the bzImage) when the kernel is not xz-compressed or has no PVH entry. */
async function extractPvhKernel(exec: Exec, vmlinuz: string, out: string): Promise<boolean> {
  const bz = await readFile(vmlinuz);
  const at = bz.indexOf(XZ_MAGIC);
  if (at < 0) return false;
  await writeFile(`${out}.xz`, bz.subarray(at));
  // --single-stream: the bzImage carries bytes after the compressed kernel.
  const r = await exec.run({ argv: ['xz', '-d', '-q', '--single-stream', `${out}.xz`], allowFailure: true });
  await rm(`${out}.xz`, { force: true });
  if (r.exitCode !== 0 || !existsSync(out)) return false;
  const elf = await readFile(out);
  if (elf.subarray(0, 4).toString('latin1') !== '\x7fELF' || elf.indexOf(PVH_NOTE) < 0) {
    await rm(out, { force: true });
    return false;
  }
  return true;
}

/** The stage-1 initramfs: the host's static busybox, the modules stage 1 needs in dependency order,
 * and /init. */
async function buildInitramfs(exec: Exec, root: string, version: string, build: string, finalRoot: string): Promise<void> {
  const dir = join(build, 'initramfs');
  for (const d of ['bin', 'modules', 'proc', 'sys', 'dev', 'lower', 'upper', 'newroot']) await mkdir(join(dir, d), { recursive: true });
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  const order: string[] = [];
  for (const m of STAGE1_MODULES) {
    const r = await exec.run({ argv: ['modprobe', '-d', root, '-S', version, '--show-depends', m] });
    for (const line of r.stdout.split('\n')) {
      const path = /^insmod (\S+)/.exec(line)?.[1];
      if (path !== undefined && !order.includes(path)) order.push(path);
    }
  }
  for (const p of order) await copyFile(p, join(dir, 'modules', basename(p)));
  await writeFile(join(dir, 'modules', 'order'), `${order.map((p) => basename(p)).join('\n')}\n`);
  await writeFile(join(dir, 'init'), renderStage1(finalRoot, version), { mode: 0o755 });
  // Uncompressed: qemu loads it by DMA in a blink, while gunzip under emulation takes a while.
  await exec.run({
    argv: ['sh', '-c', 'cd "$1" && find . | cpio -o -H newc --quiet > "$2"', 'svcbench-initramfs', dir, join(build, 'initrd.img')],
  });
  await rm(dir, { recursive: true, force: true });
}
