// IPv4 arithmetic for the address plan. Addresses are handled as unsigned 32-bit integers.

export interface Cidr {
  base: number;
  prefix: number;
}

/**
 * A dotted-quad IPv4 address without leading zeros ("10.0.0.1", not "010.0.0.1", as Kubernetes
 * validates them) as an unsigned 32-bit integer, or undefined. A character scan rather than split
 * and a regex: the nft and eBPF renders parse every endpoint address of the state.
 */
export function parseIp(s: string): number | undefined {
  const n = s.length;
  let i = 0;
  let addr = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46) return undefined; // '.'
      i++;
    }
    const start = i;
    let v = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || v > 255 || (digits > 1 && s.charCodeAt(start) === 48)) return undefined;
    addr = addr * 256 + v;
  }
  return i === n ? addr : undefined;
}

export const isIPv4 = (s: string): boolean => parseIp(s) !== undefined;

/** "a.b.c.d/p" with p 0..32 (no leading zeros); unlike parseCidr, host bits may be set. */
export function isIPv4Cidr(s: string): boolean {
  const slash = s.indexOf('/');
  return slash >= 0 && isIPv4(s.slice(0, slash)) && /^(?:3[0-2]|[12]?\d)$/.test(s.slice(slash + 1));
}

export function formatIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Parses "a.b.c.d/p" and requires the host bits to be zero (as Kubernetes' CIDR flags do). */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m) return undefined;
  const base = parseIp(m[1]!);
  const prefix = Number(m[2]);
  if (base === undefined || prefix > 32) return undefined;
  if ((base & ~maskOf(prefix)) >>> 0 !== 0) return undefined;
  return { base, prefix };
}

export const maskOf = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);
export const formatCidr = (c: Cidr): string => `${formatIp(c.base)}/${c.prefix}`;

export function cidrContains(c: Cidr, ip: number): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.base;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & maskOf(p)) >>> 0 === (b.base & maskOf(p)) >>> 0;
}

/** The i-th address of a CIDR (0 is the network address). */
export function nthIp(c: Cidr, i: number): string {
  if (i < 0 || i >= cidrSize(c)) throw new RangeError(`index ${i} outside ${formatCidr(c)}`);
  return formatIp(c.base + i);
}
