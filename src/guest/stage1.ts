// Stage 1 of the guest: the /init of a small busybox initramfs (built once, cached with the kernel).
// It loads the virtio, 9p and overlayfs modules (in the order `modprobe --show-depends` computed on
// the host: busybox's insmod knows no dependencies), mounts the host's root read-only over 9p and
// puts a tmpfs overlay on top of it, so the guest can write anywhere (/lib/modules, /boot) without
// touching the host, mounts the filesystems every run needs, copies the job (stage 2, rendered per run
// by stage2.ts) out of the host's job directory named on the kernel command line, and hands over to
// it with switch_root.
// Everything that changes between runs lives in stage 2, so the cached image rarely needs rebuilding.

/** Bump when the image layout or STAGE1 changes: a cached image of another format is rebuilt. */
export const IMAGE_FORMAT = 3;

/** Modules stage 1 needs, as `modprobe` names them; their dependencies are added on the host. */
export const STAGE1_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay', 'virtio_console'];

/** The kernel command-line parameter naming the host directory that holds the job. */
export const JOB_PARAM = 'svcbench.job';

/** /init, for the image of kernel `version` whose unpacked package is `kernelRoot` (a cache path the
 * guest sees through the host root). Everything the guest needs that does not change between runs
 * is mounted here, by the static busybox already in memory: under emulation each dynamically linked
 * host binary run over 9p costs a few tenths of a second. Mounts under /newroot move with it at
 * switch_root. */
export function renderStage1(kernelRoot: string, version: string): string {
  return `#!/bin/busybox sh
# svcbench guest, stage 1 (src/guest/stage1.ts)
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() {
  echo "svcbench guest stage 1: $*" > /dev/ttyS0
  echo b > /proc/sysrq-trigger
}
for m in $(cat /modules/order); do insmod "/modules/$m" || fail "insmod $m failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || fail "cannot mount the host root (9p)"
mount -t tmpfs -o mode=755 tmpfs /upper && mkdir /upper/data /upper/work || fail "cannot mount the overlay's tmpfs"
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || fail "cannot mount the overlay root"
cd /newroot
# A fresh /run: the host's (its netns mounts, /run/svcbench state files) must not show. /tmp stays
# the host's, seen through the overlay (writes land in its tmpfs): the project itself may live
# there (a CI clone in /tmp), and the guest runs it from the same path.
mount -t proc proc proc && mount -t sysfs sysfs sys && mount -t devtmpfs devtmpfs dev || fail "cannot mount proc, sys, dev"
mkdir -p dev/pts dev/shm && mount -t devpts -o newinstance,ptmxmode=0666 devpts dev/pts && mount -t tmpfs -o mode=1777 tmpfs dev/shm || fail "cannot mount devpts, shm"
mount -t tmpfs -o mode=755 tmpfs run || fail "cannot mount /run"
mount -t cgroup2 cgroup2 sys/fs/cgroup && mount -t bpf bpf sys/fs/bpf || fail "cannot mount cgroup2, bpffs"
# The guest kernel's modules and config where kmod and readKernelConfig look (in the overlay's tmpfs).
mkdir -p usr/lib/modules boot && ln -sfn ${kernelRoot}/lib/modules/${version} usr/lib/modules/${version} && ln -sf ${kernelRoot}/boot/config-${version} boot/config-${version} || fail "cannot link the modules"
job=$(sed -n 's/.*${JOB_PARAM}=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
mkdir -p .svcbench && cp "/lower$job/stage2.sh" .svcbench/ || fail "cannot read the job in $job"
cd /
umount /proc /sys /dev
exec switch_root /newroot /bin/sh /.svcbench/stage2.sh
`;
}
