import { binary, bpffs, btf, cgroup2, kernelOptions, verdict } from '../preflight.js';
import type { BackendInfo } from '../types.js';

export const ebpf: BackendInfo = {
  name: 'ebpf',
  title: 'socket-level load balancing (cgroup connect4/sendmsg4) and tc NodePort, after Cilium',
  preflight: async () =>
    verdict([
      await binary('clang', ['--version'], 'clang'),
      await binary('bpftool', ['version'], 'bpftool'),
      ...kernelOptions(['CONFIG_BPF_SYSCALL', 'CONFIG_BPF_JIT', 'CONFIG_CGROUP_BPF', 'CONFIG_NET_CLS_BPF', 'CONFIG_NET_SCH_INGRESS']),
      btf(),
      cgroup2(),
      bpffs(),
    ]),
};
