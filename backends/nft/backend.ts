import { binary, kernelOptions, verdict } from '../preflight.js';
import type { Backend } from '../types.js';

export const nft: Backend = {
  name: 'nft',
  title: "kube-proxy's nftables mode: verdict maps and per-service chains, one nft -f transaction per sync",
  preflight: async () =>
    verdict([
      await binary('nft', ['--version'], 'nftables'),
      ...kernelOptions([
        'CONFIG_NF_TABLES',
        'CONFIG_NFT_NAT',
        'CONFIG_NFT_MASQ',
        'CONFIG_NFT_NUMGEN',
        'CONFIG_NFT_CT',
        'CONFIG_NFT_FIB_IPV4',
      ]),
    ]),
};
