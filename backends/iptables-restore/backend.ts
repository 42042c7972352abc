import { iptablesFlavourChecks } from '../iptables/backend.js';
import { verdict } from '../preflight.js';
import type { Backend } from '../types.js';

export const iptablesRestore: Backend = {
  name: 'iptables-restore',
  title: "kube-proxy's iptables mode: one iptables-restore --noflush transaction per sync",
  preflight: async () => verdict(await iptablesFlavourChecks('iptables-restore')),
};
