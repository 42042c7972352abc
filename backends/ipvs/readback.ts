// Read-back of what IPVS mode installed: the IPVS table (`ipvsadm -S -n`), the sets (`ipset
// save`), the addresses of kube-ipvs0 (`ip -o -4 addr show dev kube-ipvs0`) and the sysctls, each
// parsed and compared with the desired state. The iptables side is compared by
// ../shared/iptables/parse-save.ts (canonical rules, so `--or-mark` equals `--set-xmark`).
import type { Ruleset } from '../shared/iptables/ruleset.js';
import { diffRulesets, formatDifference, parseIptablesSave } from '../shared/iptables/parse-save.js';
import { JUMP_RULES, SETS, vsKey, type Desired, type IpvsProtocol, type VirtualServer } from './render.js';

export class ReadbackParseError extends Error {}

/**
 * `ipvsadm -S -n` (ipvsadm-save): one `-A -t|-u ADDR:PORT -s SCHED [-p T]` line per virtual
 * server, then `-a -t|-u ADDR:PORT -r ADDR:PORT -m|-g|-i -w W` per real server. Real servers are
 * keyed "IP:port"; one forwarded other than by masquerading, or with a weight other than 1, is kept
 * with a suffix (" -g -w 1") so that it differs from every desired real server.
 */
export function parseIpvsadmSave(text: string): Map<string, VirtualServer> {
  const out = new Map<string, VirtualServer>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const t = line.split(/\s+/);
    const proto = t[1] === '-t' ? 'tcp' : t[1] === '-u' ? 'udp' : undefined;
    const at = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(t[2] ?? '');
    if (proto === undefined || at === null) throw new ReadbackParseError(`ipvsadm -S: unexpected line: ${line}`);
    const key = vsKey(proto as IpvsProtocol, at[1]!, Number(at[2]));
    const opt = (flag: string): string | undefined => {
      const i = t.indexOf(flag);
      return i >= 0 ? t[i + 1] : undefined;
    };
    if (t[0] === '-A') {
      const vs: VirtualServer = {
        protocol: proto as IpvsProtocol,
        address: at[1]!,
        port: Number(at[2]),
        scheduler: opt('-s') ?? '',
        reals: new Set(),
      };
      const p = opt('-p');
      if (p !== undefined) vs.persistent = Number(p);
      out.set(key, vs);
    } else if (t[0] === '-a') {
      const vs = out.get(key);
      const real = opt('-r');
      if (!vs || real === undefined) throw new ReadbackParseError(`ipvsadm -S: real server before its service: ${line}`);
      const masq = t.includes('-m');
      const weight = opt('-w') ?? '1';
      vs.reals.add(masq && weight === '1' ? real : `${real} ${t.slice(t.indexOf('-r') + 2).join(' ')}`);
    } else {
      throw new ReadbackParseError(`ipvsadm -S: unexpected line: ${line}`);
    }
  }
  return out;
}

export interface SavedSet {
  type: string;
  entries: Set<string>;
}

/** `ipset save`: `create NAME TYPE options…` and `add NAME ENTRY` lines. */
export function parseIpsetSave(text: string): Map<string, SavedSet> {
  const out = new Map<string, SavedSet>();
  for (const raw of text.split('\n')) {
    const t = raw.trim().split(/\s+/);
    if (t[0] === 'create' && t.length >= 3) out.set(t[1]!, { type: t[2]!, entries: new Set() });
    else if (t[0] === 'add' && t.length >= 3) {
      const s = out.get(t[1]!);
      if (!s) throw new ReadbackParseError(`ipset save: entry of an undeclared set: ${raw.trim()}`);
      s.entries.add(t[2]!);
    } else if (t[0] !== '') throw new ReadbackParseError(`ipset save: unexpected line: ${raw.trim()}`);
  }
  return out;
}

/** `ip -o -4 addr show dev DEV`: the IPv4 addresses, with their prefix length. */
export function parseAddresses(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /\sinet\s+(\d+\.\d+\.\d+\.\d+\/\d+)\s/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** What was read from the node namespace. */
export interface Installed {
  virtualServers: Map<string, VirtualServer>;
  sets: Map<string, SavedSet>;
  /** "IP/prefix" on kube-ipvs0, or undefined when the device does not exist. */
  addresses: string[] | undefined;
  iptables: Ruleset;
  /** sysctl name → value read. */
  sysctls: Map<string, string>;
}

const describeVs = (vs: VirtualServer): string => `-s ${vs.scheduler}${vs.persistent !== undefined ? ` -p ${vs.persistent}` : ''}`;

/** One line per difference between the desired and the installed state (empty when equal). */
export function diff(desired: Desired, installed: Installed, sysctls: readonly (readonly [string, string])[]): string[] {
  const out: string[] = [];
  // Virtual and real servers.
  for (const [key, want] of desired.virtualServers) {
    const have = installed.virtualServers.get(key);
    if (!have) {
      out.push(`ipvs: missing virtual server ${key} ${describeVs(want)}`);
      continue;
    }
    if (describeVs(have) !== describeVs(want)) out.push(`ipvs: ${key} has ${describeVs(have)}, expected ${describeVs(want)}`);
    for (const r of want.reals) if (!have.reals.has(r)) out.push(`ipvs: ${key} is missing real server ${r} (masq, weight 1)`);
    for (const r of have.reals) if (!want.reals.has(r)) out.push(`ipvs: ${key} has unexpected real server ${r}`);
  }
  for (const key of installed.virtualServers.keys())
    if (!desired.virtualServers.has(key)) out.push(`ipvs: unexpected virtual server ${key}`);
  // Sets: every set of ipsetInfo, with its type and entries.
  for (const s of SETS) {
    const have = installed.sets.get(s.name);
    if (!have) {
      out.push(`ipset: set ${s.name} missing`);
      continue;
    }
    if (have.type !== s.type) out.push(`ipset: ${s.name} is ${have.type}, expected ${s.type}`);
    const want = desired.sets.get(s.name)!;
    for (const e of want) if (!have.entries.has(e)) out.push(`ipset: ${s.name} is missing ${e}`);
    for (const e of have.entries) if (!want.has(e)) out.push(`ipset: ${s.name} has unexpected ${e}`);
  }
  // Addresses on the dummy device, each a /32.
  if (installed.addresses === undefined) out.push('kube-ipvs0: device missing');
  else {
    const have = new Set(installed.addresses);
    for (const a of desired.addresses) if (!have.has(`${a}/32`)) out.push(`kube-ipvs0: missing address ${a}/32`);
    for (const a of installed.addresses)
      if (!desired.addresses.has(a.replace(/\/32$/, '')) || !a.endsWith('/32')) out.push(`kube-ipvs0: unexpected address ${a}`);
  }
  // iptables: KUBE-* chains and the jump rules from the built-in chains.
  out.push(...diffRulesets(desired.ruleset, installed.iptables, { jumpRules: JUMP_RULES }).map((d) => `iptables: ${formatDifference(d)}`));
  for (const [name, value] of sysctls) {
    const have = installed.sysctls.get(name);
    if (have !== value) out.push(`sysctl: ${name} is ${have ?? 'unreadable'}, expected ${value}`);
  }
  return out;
}

/** Convenience for the backend: parse the tools' outputs into an Installed. */
export function parseInstalled(o: {
  ipvsadm: string;
  ipset: string;
  addresses: string | undefined;
  iptables: string;
  sysctls: string;
}): Installed {
  const sysctls = new Map<string, string>();
  for (const line of o.sysctls.split('\n')) {
    const m = /^(\S+)\s*=\s*(\S*)$/.exec(line.trim());
    if (m) sysctls.set(m[1]!, m[2]!);
  }
  return {
    virtualServers: parseIpvsadmSave(o.ipvsadm),
    sets: parseIpsetSave(o.ipset),
    addresses: o.addresses === undefined ? undefined : parseAddresses(o.addresses),
    iptables: parseIptablesSave(o.iptables),
    sysctls,
  };
}
