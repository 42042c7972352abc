import { describe, expect, it } from 'vitest';
import { qemuArgv } from './qemu.js';
import { renderStage1 } from './stage1.js';
import { GUEST_MODULES, PORTS, renderStage2 } from './stage2.js';

const job = {
  argv: ['/usr/bin/node', '/work/main/dist/bench.mjs', 'run', '--backend', 'ipvs', '--kernel', 'guest'],
  cwd: '/work/main',
  env: { PATH: '/usr/bin:/bin', SVCBENCH_X: "it's", 'BAD-NAME': 'x' },
  results: '/work/main/results',
};

describe('renderStage2', () => {
  const s = renderStage2(job);

  it('loads the modules the backends need', () => {
    expect(s).toContain(`modprobe -a ${GUEST_MODULES.join(' ')}`);
    expect(GUEST_MODULES).toEqual(expect.arrayContaining(['ip_vs', 'ip_vs_rr', 'nf_tables', 'xt_statistic', 'ip_set', 'dummy', 'veth']));
  });

  it('mounts the results directory writable at the same path, only when there is one', () => {
    expect(s).toContain('mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /work/main/results');
    const { results: _, ...noResults } = job;
    expect(renderStage2(noResults)).not.toContain('results');
  });

  it('runs the argv quoted, with stdout and stderr on their ports, and reports the exit code', () => {
    expect(s).toContain(`${job.argv.join(' ')} >"$OUT" 2>"$ERR" &`);
    expect(s).toContain(`export SVCBENCH_X='it'\\''s'`);
    expect(s).not.toContain('BAD-NAME');
    expect(s).toMatch(/status "exit \$code/);
    for (const name of Object.values(PORTS)) expect(s).toContain(name);
    // the host's INT/TERM reach the command, which tears down as on the host
    expect(s).toContain('kill -s "$sig" "$pid"');
  });
});

describe('qemuArgv', () => {
  const argv = qemuArgv({ kernel: '/c/vmlinux', initrd: '/c/initrd.img', jobDir: '/tmp/j', results: '/r,x', memoryMiB: 1536, cpus: 2 });

  it('gives the guest no network device and the host root read-only', () => {
    expect(argv).toEqual(expect.arrayContaining(['-nodefaults', '-nic', 'none', '-no-reboot']));
    expect(argv).toContain('local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
    expect(argv.filter((a) => a.startsWith('virtio-net') || a.includes('netdev'))).toEqual([]);
  });

  it('shares the results directory writable, escaping commas as qemu wants', () => {
    expect(argv).toContain('local,path=/r,,x,mount_tag=results,security_model=none,multidevs=remap');
  });

  it('names the job on the kernel command line', () => {
    expect(argv[argv.indexOf('-append') + 1]).toMatch(/ svcbench\.job=\/tmp\/j$/);
  });
});

describe('renderStage1', () => {
  const root = '/var/cache/svcbench/guest/6.1.0-56-amd64/root';
  const s = renderStage1(root, '6.1.0-56-amd64');

  it('puts a tmpfs overlay on the read-only host root', () => {
    expect(s).toContain('mount -t 9p -o trans=virtio,version=9p2000.L,ro,');
    expect(s).toContain('mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot');
  });

  it('gives the guest a fresh /run (host namespaces and state files never show inside) but keeps /tmp, where a project may live', () => {
    expect(s).toContain('mount -t tmpfs -o mode=755 tmpfs run ||');
    expect(s).not.toMatch(/tmpfs tmp\b/);
    expect(s).toContain('mount -t cgroup2 cgroup2 sys/fs/cgroup && mount -t bpf bpf sys/fs/bpf');
  });

  it("links the guest kernel's modules and config where kmod and the preflights look", () => {
    expect(s).toContain(`ln -sfn ${root}/lib/modules/6.1.0-56-amd64 usr/lib/modules/6.1.0-56-amd64`);
    expect(s).toContain(`ln -sf ${root}/boot/config-6.1.0-56-amd64 boot/config-6.1.0-56-amd64`);
  });

  it('reads the job named on the kernel command line and hands over to it', () => {
    expect(s).toContain(`sed -n 's/.*svcbench.job=\\([^ ]*\\).*/\\1/p' /proc/cmdline`);
    expect(s).toMatch(/exec switch_root \/newroot \/bin\/sh \/\.svcbench\/stage2\.sh\n$/);
  });
});
