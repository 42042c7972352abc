import { JOB_PARAM } from './stage1.js';
import { PORTS } from './stage2.js';

// The qemu command line. No network device (-nic none, -nodefaults): the guest has its own kernel
// and no link to anything, so nothing it does can reach the host's network. The host root is shared
// read-only over 9p (multidevs=remap: the host root spans several filesystems, whose inode numbers
// would otherwise collide in the guest); the results directory, when there is one, writable.
// The guest's streams travel on virtio-serial ports backed by the sockets the host process hands qemu (3: stdout, 4: stderr, 5: status, 6: the kernel console); the control port reads qemu's
// stdin. No /dev/kvm that works on these machines: multi-threaded TCG on every core we are given.

export const GUEST_FDS = { stdout: 3, stderr: 4, status: 5, console: 6 } as const;

export interface QemuSpec {
  kernel: string;
  initrd: string;
  jobDir: string;
  results?: string;
  memoryMiB: number;
  cpus: number;
  /** qboot, qemu's minimal firmware: the kernel starts sooner than with SeaBIOS under TCG
   * (src/guest/README.md). Optional: SeaBIOS when it is not installed. */
  bios?: string;
}

export const QBOOT = '/usr/share/qemu/qboot.rom';

/** qemu's option syntax separates suboptions with commas; a literal comma is doubled. */
const optValue = (s: string): string => s.replace(/,/g, ',,');

export function qemuArgv(s: QemuSpec): string[] {
  const port = (name: string, chardev: string) => ['-device', `virtserialport,chardev=${chardev},name=${name}`];
  // Node hands a child socketpairs, not pipes: qemu takes them as connected sockets.
  const fdChardev = (id: string, fd: number) => ['-chardev', `socket,id=${id},fd=${fd}`];
  return [
    'qemu-system-x86_64',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-no-reboot',
    '-nic',
    'none',
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-smp',
    String(s.cpus),
    '-m',
    `${s.memoryMiB}M`,
    ...(s.bios === undefined ? [] : ['-bios', s.bios]),
    '-kernel',
    s.kernel,
    '-initrd',
    s.initrd,
    '-append',
    // quiet: the console is a serial port, and every line printed on it costs time under emulation.
    // cryptomgr.notests: the crypto self-tests cost half a second of every boot.
    `console=ttyS0 quiet panic=-1 cryptomgr.notests ${JOB_PARAM}=${s.jobDir}`,
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    ...(s.results === undefined
      ? []
      : ['-virtfs', `local,path=${optValue(s.results)},mount_tag=results,security_model=none,multidevs=remap`]),
    ...fdChardev('console', GUEST_FDS.console),
    '-serial',
    'chardev:console',
    '-device',
    'virtio-serial-pci',
    '-chardev',
    'stdio,id=control,signal=off',
    ...port(PORTS.control, 'control'),
    ...fdChardev('stdout', GUEST_FDS.stdout),
    ...port(PORTS.stdout, 'stdout'),
    ...fdChardev('stderr', GUEST_FDS.stderr),
    ...port(PORTS.stderr, 'stderr'),
    ...fdChardev('status', GUEST_FDS.status),
    ...port(PORTS.status, 'status'),
  ];
}
