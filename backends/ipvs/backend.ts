import { binary, kernelOptions, verdict } from '../preflight.js';
import type { BackendInfo } from '../types.js';

export const ipvs: BackendInfo = {
  name: 'ipvs',
  title: "kube-proxy's IPVS mode: virtual servers per VIP, ipsets and the iptables rules IPVS still needs",
  preflight: async () =>
    verdict([
      await binary('ipvsadm', ['--version'], 'ipvsadm'),
      await binary('ipset', ['--version'], 'ipset'),
      // kube-ipvs0 is a dummy interface (reference §3), so IPVS mode needs CONFIG_DUMMY too.
      ...kernelOptions([
        'CONFIG_IP_VS',
        'CONFIG_IP_VS_RR',
        'CONFIG_IP_VS_NFCT',
        'CONFIG_IP_SET',
        'CONFIG_IP_SET_HASH_IPPORT',
        'CONFIG_IP_SET_BITMAP_PORT',
        'CONFIG_DUMMY',
      ]),
    ]),
};
