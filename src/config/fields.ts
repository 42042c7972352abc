import { z } from 'zod';
import { parseCidr } from '../model/ipv4.js';

// Field schemas shared by flags and scenario files, with messages that say what is accepted.

/** An integer within [min, max]; flags arrive as strings, so they are coerced first. */
export function intInRange(min: number, max: number) {
  return z.coerce
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int({ error: `must be a whole number from ${min} to ${max}` })
    .min(min, { error: (i) => `must be at least ${min} (got ${String(i.input)})` })
    .max(max, { error: (i) => `must be at most ${max} (got ${String(i.input)})` });
}

export const cidr = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: (i) => `must be an IPv4 CIDR with zero host bits, like 10.244.0.0/16 (got ${JSON.stringify(i.input)})`,
});

/** Kubernetes DNS-1035 label (Service names): also keeps shell metacharacters out of every
 * name that reaches a command line or a chain name. */
export const dns1035Label = z.string().regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: (i) =>
    `must be a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters); got ${JSON.stringify(i.input)}`,
});

/** Kubernetes DNS-1123 label (namespace names). */
export const dns1123Label = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, {
  error: (i) => `must be a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters); got ${JSON.stringify(i.input)}`,
});

/** IANA_SVC_NAME, what Kubernetes accepts as a port name. */
export const portName = z.string().regex(/^$|^(?=.{1,15}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
  error: (i) => `must be empty or an IANA service name (at most 15 lower-case letters, digits and '-'); got ${JSON.stringify(i.input)}`,
});

export const runId = z.string().regex(/^[a-z0-9]{6}$/, {
  error: (i) => `must be a run id of 6 lower-case letters and digits, as printed by bench up (got ${JSON.stringify(i.input)})`,
});
