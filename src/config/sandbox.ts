import { z } from 'zod';
import { cidrSize, cidrsOverlap, parseCidr, parseIp, cidrContains, type Cidr } from '../model/ipv4.js';
import { flagName } from './errors.js';
import { cidr, intInRange } from './fields.js';

/** The pods' gateway on the node's lo (Calico's convention, ../shared/reference/environment.md). */
export const GATEWAY_IP = '169.254.1.1';

export const MAX_PODS = 1000;
export const MAX_CLIENTS = 32;

/** The sandbox's settings without defaults: a scenario file may set any of them. */
export const sandboxFields = {
  pods: intInRange(1, MAX_PODS),
  clients: intInRange(1, MAX_CLIENTS),
  podCidr: cidr,
  serviceCidr: cidr,
  externalCidr: cidr,
};

/** The same settings as flags, with their defaults and help text. */
export const sandboxShape = {
  pods: sandboxFields.pods.default(3).describe('server pods'),
  clients: sandboxFields.clients.default(1).describe('client pods'),
  podCidr: sandboxFields.podCidr.default('10.244.0.0/16').describe('pod CIDR'),
  serviceCidr: sandboxFields.serviceCidr.default('10.96.0.0/12').describe('service CIDR (cluster IPs)'),
  externalCidr: sandboxFields.externalCidr.default('198.18.0.0/24').describe('node–external link (RFC 2544 benchmarking range)'),
};

export const sandboxSchema = z.object(sandboxShape).superRefine((c, ctx) => {
  // Field errors (a malformed CIDR) are already reported; cross-field checks need valid fields.
  if ([c.podCidr, c.serviceCidr, c.externalCidr].some((x) => parseCidr(x) === undefined)) return;
  const nets: [keyof typeof sandboxShape, Cidr][] = [
    ['podCidr', parseCidr(c.podCidr)!],
    ['serviceCidr', parseCidr(c.serviceCidr)!],
    ['externalCidr', parseCidr(c.externalCidr)!],
  ];
  for (let i = 0; i < nets.length; i++) {
    const [name, net] = nets[i]!;
    if (cidrContains(net, parseIp(GATEWAY_IP)!))
      ctx.addIssue({ code: 'custom', path: [name], message: `must not contain the pods' gateway ${GATEWAY_IP}` });
    for (let j = i + 1; j < nets.length; j++) {
      const [other, net2] = nets[j]!;
      if (cidrsOverlap(net, net2))
        ctx.addIssue({
          code: 'custom',
          path: [other],
          message: `overlaps ${flagName(name)} (${c[name]}); the three ranges must be disjoint`,
        });
    }
  }
  // Pod addresses start at .2 (.0 is the network, .1 is left free as a conventional gateway).
  const needed = c.pods + c.clients + 2;
  const podSize = cidrSize(nets[0]![1]);
  if (podSize < needed)
    ctx.addIssue({
      code: 'custom',
      path: ['podCidr'],
      message: `${c.podCidr} has ${podSize} addresses, too few for ${c.pods} server and ${c.clients} client pods (need ${needed}); use a shorter prefix`,
    });
  if (cidrSize(nets[2]![1]) < 4)
    ctx.addIssue({ code: 'custom', path: ['externalCidr'], message: `must hold at least 4 addresses (a /30 or shorter prefix)` });
});

export type SandboxConfig = z.output<typeof sandboxSchema>;
