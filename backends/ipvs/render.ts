// Pure rendering of kube-proxy's IPVS mode (pkg/proxy/ipvs/proxier.go syncProxyRules ≈L985 and
// writeIptablesRules ≈L1635; ipset.go; ../shared/reference/kube-proxy-rules.md §3). Line numbers
// are approximate.
//
// What a node holds in IPVS mode, and what this module renders for it:
//  - the dummy interface kube-ipvs0 with every ClusterIP bound as a /32 (EnsureDummyDevice; the
//    link stays down: a local route exists for an address on a down device);
//  - one IPVS virtual server per ClusterIP:port and per node IP:nodePort, scheduler `rr`,
//    ClientIP affinity as persistence (`-p StickyMaxAgeSeconds`), real servers in masquerading
//    (NAT) mode with weight 1 (syncEndpoint ≈L1925);
//  - the ipsets of ipsetInfo (all of them exist; the sets svcbench's model can fill are
//    KUBE-CLUSTER-IP, KUBE-LOOP-BACK, KUBE-NODE-PORT-{TCP,UDP}, KUBE-NODE-PORT-LOCAL-{TCP,UDP} and
//    KUBE-IPVS-IPS);
//  - the iptables rules IPVS mode still needs (masquerade, hairpin, node ports, filter), one
//    `iptables-restore --noflush` payload rewritten in full on every sync, and the jump rules from
//    the built-in chains, ensured one by one on every sync (createAndLinkKubeChain);
//  - the sysctls NewProxier sets, in the node namespace only.
//
// kube-proxy settings this reproduces (svcbench has no flags for the others): scheduler rr,
// masqueradeAll=false with the cluster-CIDR local detector (cfg.podCidr), nodePortAddresses unset
// (node ports on every node address; svcbench passes them in cfg.nodeIPs rather than listing the
// interfaces), strictARP=false, IPv4 only, no ExternalIPs/LoadBalancer/health-check node ports,
// all endpoints ready, no topology hints, MASQUERADE --random-fully.
//
// Syncs. kube-proxy's IPVS proxier has no partial sync: every sync walks all services, then
// diffs virtual servers, real servers, ipset entries and dummy-device addresses against what the
// kernel holds, one netlink call (or one `ipset add/del` process) per difference. svcbench
// renders that diff from (prev, next) instead of asking the kernel, and batches it into one
// `ipvsadm-restore`, one `ipset restore` and one `ip -batch` each. A full sync (no prev) creates
// everything from nothing: ipvsadm-restore clears the IPVS table first and every set is flushed,
// so it also replaces whatever a previous sync left.
import { sameEndpoints, sameService } from '../../src/model/change.js';
import { serviceKey } from '../../src/model/types.js';
import type { ClusterState, ProxyConfig, Service, ServicePort } from '../../src/model/types.js';
import type { JumpRule, Rule, Ruleset } from '../shared/iptables/ruleset.js';
import { toRestorePayload } from '../shared/iptables/ruleset.js';

export const DUMMY_DEVICE = 'kube-ipvs0';
export const SCHEDULER = 'rr';

// Chains (≈L46–86).
export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_NODE_PORT = 'KUBE-NODE-PORT';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
export const KUBE_IPVS_FILTER = 'KUBE-IPVS-FILTER';
export const KUBE_IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';

/** iptablesChains: declared (so flushed and rewritten) in every sync's payload, in this order. */
export const NAT_CHAINS = [KUBE_SERVICES, KUBE_POSTROUTING, KUBE_NODE_PORT, KUBE_LOAD_BALANCER, KUBE_MARK_MASQ] as const;
export const FILTER_CHAINS = [
  KUBE_FORWARD,
  KUBE_NODE_PORT,
  KUBE_PROXY_FIREWALL,
  KUBE_SOURCE_RANGES_FIREWALL,
  KUBE_IPVS_FILTER,
  KUBE_IPVS_OUT_FILTER,
] as const;

const jump = (table: JumpRule['table'], srcChain: string, dstChain: string, comment: string): JumpRule => ({
  table,
  srcChain,
  dstChain,
  rule: ['-m', 'comment', '--comment', comment, '-j', dstChain],
});

/** iptablesJumpChain (≈L450), in kube-proxy's order; each is EnsureRule(Prepend)ed on every sync. */
export const JUMP_RULES: readonly JumpRule[] = [
  jump('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'),
  jump('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', KUBE_NODE_PORT, 'kubernetes health check rules'),
  jump('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'),
  jump('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'),
  jump('filter', 'INPUT', KUBE_IPVS_FILTER, 'kubernetes ipvs access filter'),
  jump('filter', 'OUTPUT', KUBE_IPVS_OUT_FILTER, 'kubernetes ipvs access filter'),
];

// ipsets (ipset.go): name, type and the comment the iptables rules carry.
export type SetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';
export interface SetInfo {
  name: string;
  type: SetType;
  comment: string;
}
const set = (name: string, type: SetType, comment: string): SetInfo => ({ name, type, comment });

export const KUBE_LOOP_BACK = set(
  'KUBE-LOOP-BACK',
  'hash:ip,port,ip',
  'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
);
export const KUBE_CLUSTER_IP = set('KUBE-CLUSTER-IP', 'hash:ip,port', 'Kubernetes service cluster ip + port for masquerade purpose');
export const KUBE_EXTERNAL_IP = set(
  'KUBE-EXTERNAL-IP',
  'hash:ip,port',
  'Kubernetes service external ip + port for masquerade and filter purpose',
);
export const KUBE_EXTERNAL_IP_LOCAL = set(
  'KUBE-EXTERNAL-IP-LOCAL',
  'hash:ip,port',
  'Kubernetes service external ip + port with externalTrafficPolicy=local',
);
export const KUBE_LOAD_BALANCER_SET = set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal');
export const KUBE_LOAD_BALANCER_FW = set(
  'KUBE-LOAD-BALANCER-FW',
  'hash:ip,port',
  'Kubernetes service load balancer ip + port for load balancer with sourceRange',
);
export const KUBE_LOAD_BALANCER_LOCAL = set(
  'KUBE-LOAD-BALANCER-LOCAL',
  'hash:ip,port',
  'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
);
export const KUBE_LOAD_BALANCER_SOURCE_IP = set(
  'KUBE-LOAD-BALANCER-SOURCE-IP',
  'hash:ip,port,ip',
  'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
);
export const KUBE_LOAD_BALANCER_SOURCE_CIDR = set(
  'KUBE-LOAD-BALANCER-SOURCE-CIDR',
  'hash:ip,port,net',
  'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
);
export const KUBE_NODE_PORT_TCP = set('KUBE-NODE-PORT-TCP', 'bitmap:port', 'Kubernetes nodeport TCP port for masquerade purpose');
export const KUBE_NODE_PORT_LOCAL_TCP = set(
  'KUBE-NODE-PORT-LOCAL-TCP',
  'bitmap:port',
  'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
);
export const KUBE_NODE_PORT_UDP = set('KUBE-NODE-PORT-UDP', 'bitmap:port', 'Kubernetes nodeport UDP port for masquerade purpose');
export const KUBE_NODE_PORT_LOCAL_UDP = set(
  'KUBE-NODE-PORT-LOCAL-UDP',
  'bitmap:port',
  'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
);
export const KUBE_NODE_PORT_SCTP = set(
  'KUBE-NODE-PORT-SCTP-HASH',
  'hash:ip,port',
  "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
);
export const KUBE_NODE_PORT_LOCAL_SCTP = set(
  'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
  'hash:ip,port',
  "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
);
export const KUBE_HEALTH_CHECK_NODE_PORT = set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port');
export const KUBE_IPVS_IPS = set('KUBE-IPVS-IPS', 'hash:ip', 'Addresses on the ipvs interface');

/** ipsetInfo (≈L525): every set kube-proxy creates, in its order. */
export const SETS: readonly SetInfo[] = [
  KUBE_LOOP_BACK,
  KUBE_CLUSTER_IP,
  KUBE_EXTERNAL_IP,
  KUBE_EXTERNAL_IP_LOCAL,
  KUBE_LOAD_BALANCER_SET,
  KUBE_LOAD_BALANCER_FW,
  KUBE_LOAD_BALANCER_LOCAL,
  KUBE_LOAD_BALANCER_SOURCE_IP,
  KUBE_LOAD_BALANCER_SOURCE_CIDR,
  KUBE_NODE_PORT_TCP,
  KUBE_NODE_PORT_LOCAL_TCP,
  KUBE_NODE_PORT_UDP,
  KUBE_NODE_PORT_LOCAL_UDP,
  KUBE_NODE_PORT_SCTP,
  KUBE_NODE_PORT_LOCAL_SCTP,
  KUBE_HEALTH_CHECK_NODE_PORT,
  KUBE_IPVS_IPS,
];

/** util/ipset CreateSet: hash sets get `family inet hashsize 1024 maxelem 65536` (the defaults
 * kube-proxy passes), bitmap:port sets `range 0-65535`. */
function createLine(s: SetInfo): string {
  return s.type === 'bitmap:port'
    ? `create ${s.name} ${s.type} range 0-65535`
    : `create ${s.name} ${s.type} family inet hashsize 1024 maxelem 65536`;
}

/** The sysctls NewProxier sets (≈L330): per network namespace, so set in the node's only.
 * vs/conn_reuse_mode is left alone: kube-proxy sets it to 0 only on kernels older than 5.9. */
export const SYSCTLS: readonly (readonly [string, string])[] = [
  ['net.ipv4.vs.conntrack', '1'],
  ['net.ipv4.vs.expire_nodest_conn', '1'],
  ['net.ipv4.vs.expire_quiescent_template', '1'],
  ['net.ipv4.ip_forward', '1'],
];

// --- the desired state ---------------------------------------------------------------------------

export type IpvsProtocol = 'tcp' | 'udp';

/** One virtual server: `-t|-u ADDRESS:PORT -s rr [-p TIMEOUT]`, with its real servers. */
export interface VirtualServer {
  protocol: IpvsProtocol;
  address: string;
  port: number;
  scheduler: string;
  /** Persistence timeout in seconds (ClientIP affinity), or undefined. */
  persistent?: number;
  /** Real servers as "IP:port", all masquerading with weight 1. */
  reals: Set<string>;
}

/** What the node holds after a sync, everything keyed for diffing and read-back. */
export interface Desired {
  /** Addresses bound to kube-ipvs0 (ClusterIPs). */
  addresses: Set<string>;
  /** Virtual servers by key (`vsKey`). */
  virtualServers: Map<string, VirtualServer>;
  /** Entries per set name (every set of SETS is present, maybe empty). */
  sets: Map<string, Set<string>>;
  /** KUBE-* chains of the nat and filter tables. */
  ruleset: Ruleset;
}

const protocolFlag = (p: IpvsProtocol): string => (p === 'tcp' ? '-t' : '-u');
/** `-t 10.96.0.1:80`: the service part of an ipvsadm line, and the key of a virtual server. */
export const vsKey = (p: IpvsProtocol, address: string, port: number): string => `${protocolFlag(p)} ${address}:${port}`;
const lower = (p: ServicePort['protocol']): IpvsProtocol => (p === 'TCP' ? 'tcp' : 'udp');

/** The virtual servers one service contributes (ClusterIP:port, and node IP:nodePort per node IP). */
function serviceVirtualServers(svc: Service, state: ClusterState, cfg: ProxyConfig, out: Map<string, VirtualServer>): void {
  const eps = state.endpoints[serviceKey(svc)] ?? [];
  const persistent = svc.sessionAffinity === 'ClientIP' ? svc.stickyMaxAgeSeconds : undefined;
  for (const port of svc.ports) {
    const protocol = lower(port.protocol);
    const all = new Set<string>();
    const local = new Set<string>();
    for (const e of eps) {
      all.add(`${e.ip}:${port.targetPort}`);
      if (e.local) local.add(`${e.ip}:${port.targetPort}`);
    }
    const add = (address: string, p: number, reals: Set<string>) => {
      const vs: VirtualServer = { protocol, address, port: p, scheduler: SCHEDULER, reals };
      if (persistent !== undefined) vs.persistent = persistent;
      out.set(vsKey(protocol, address, p), vs);
    };
    add(svc.clusterIP, port.port, svc.internalTrafficPolicy === 'Local' ? internalLocalReals(all, local, !!port.nodePort) : all);
    if (port.nodePort) {
      // syncEndpoint(…, svcInfo.ExternalPolicyLocal(), serv): Local policy → local endpoints only.
      const reals = svc.externalTrafficPolicy === 'Local' ? local : all;
      for (const ip of cfg.nodeIPs) add(ip, port.nodePort, new Set(reals));
    }
  }
}

/**
 * The ClusterIP's real servers for internalTrafficPolicy Local: syncProxyRules calls
 * syncEndpoint(svcPortName, internalNodeLocal = svcInfo.InternalPolicyLocal(), serv), which keeps
 * localEndpoints when there are any, and otherwise falls back to clusterEndpoints ("Allow access
 * from local PODs even if no local endpoints exist", kubernetes#97081). CategorizeEndpoints builds
 * clusterEndpoints only when Cluster policy is used at all (UsesClusterEndpoints(): internal
 * Cluster or externally accessible), so a plain ClusterIP without local endpoints gets none and
 * IPVS rejects its connections (no destination), while one with a node port keeps every endpoint.
 */
function internalLocalReals(all: Set<string>, local: Set<string>, externallyAccessible: boolean): Set<string> {
  if (local.size > 0) return local;
  return externallyAccessible ? all : new Set();
}

/** Addresses and set entries of all services (kube-proxy recomputes these on every sync). */
function addressesAndSets(state: ClusterState): { addresses: Set<string>; sets: Map<string, Set<string>> } {
  const sets = new Map<string, Set<string>>(SETS.map((s) => [s.name, new Set<string>()]));
  const entries = (s: SetInfo) => sets.get(s.name)!;
  const addresses = new Set<string>();
  for (const svc of state.services) {
    const eps = state.endpoints[serviceKey(svc)] ?? [];
    addresses.add(svc.clusterIP);
    for (const port of svc.ports) {
      const proto = lower(port.protocol);
      // Entry.String(): hash:ip,port "IP,proto:port"; hash:ip,port,ip "IP,proto:port,IP2".
      entries(KUBE_CLUSTER_IP).add(`${svc.clusterIP},${proto}:${port.port}`);
      for (const e of eps) if (e.local) entries(KUBE_LOOP_BACK).add(`${e.ip},${proto}:${port.targetPort},${e.ip}`);
      if (port.nodePort) {
        entries(proto === 'tcp' ? KUBE_NODE_PORT_TCP : KUBE_NODE_PORT_UDP).add(String(port.nodePort));
        if (svc.externalTrafficPolicy === 'Local') {
          entries(proto === 'tcp' ? KUBE_NODE_PORT_LOCAL_TCP : KUBE_NODE_PORT_LOCAL_UDP).add(String(port.nodePort));
        }
      }
    }
  }
  // proxier.ipsetList[kubeIPVSSet].activeEntries = activeBindAddrs
  for (const a of addresses) entries(KUBE_IPVS_IPS).add(a);
  return { addresses, sets };
}

const comment = (c: string): string[] => ['-m', 'comment', '--comment', c];
const matchSet = (s: SetInfo, dir: string): string[] => ['-m', 'set', '--match-set', s.name, dir];

/** ipsetWithIptablesChain (≈L560): a rule per non-empty set, in this order. The entries for sets
 * svcbench's model never fills (load-balancer firewall and source ranges, SCTP) are left out. */
const SET_RULES: readonly { set: SetInfo; table: 'nat' | 'filter'; from: string; to: string; dir: string; proto?: IpvsProtocol }[] = [
  { set: KUBE_LOOP_BACK, table: 'nat', from: KUBE_POSTROUTING, to: 'MASQUERADE', dir: 'dst,dst,src' },
  { set: KUBE_LOAD_BALANCER_SET, table: 'nat', from: KUBE_SERVICES, to: KUBE_LOAD_BALANCER, dir: 'dst,dst' },
  { set: KUBE_NODE_PORT_LOCAL_TCP, table: 'nat', from: KUBE_NODE_PORT, to: 'RETURN', dir: 'dst', proto: 'tcp' },
  { set: KUBE_NODE_PORT_TCP, table: 'nat', from: KUBE_NODE_PORT, to: KUBE_MARK_MASQ, dir: 'dst', proto: 'tcp' },
  { set: KUBE_NODE_PORT_LOCAL_UDP, table: 'nat', from: KUBE_NODE_PORT, to: 'RETURN', dir: 'dst', proto: 'udp' },
  { set: KUBE_NODE_PORT_UDP, table: 'nat', from: KUBE_NODE_PORT, to: KUBE_MARK_MASQ, dir: 'dst', proto: 'udp' },
];

/** The KUBE-* chains of syncProxyRules + writeIptablesRules, from the set contents. */
function buildRuleset(sets: Map<string, Set<string>>, cfg: ProxyConfig): Ruleset {
  const rules = new Map<string, Rule[]>();
  const add = (table: 'nat' | 'filter', chain: string, rule: string[]) => rules.get(`${table} ${chain}`)!.push(rule);
  for (const c of NAT_CHAINS) rules.set(`nat ${c}`, []);
  for (const c of FILTER_CHAINS) rules.set(`filter ${c}`, []);
  const nonEmpty = (s: SetInfo) => sets.get(s.name)!.size > 0;
  const mark = cfg.masqueradeMark;

  // "Dismiss connects to localhost early in the service chain"
  add('nat', KUBE_SERVICES, ['-s', '127.0.0.0/8', '-j', 'RETURN']);
  for (const r of SET_RULES) {
    if (!nonEmpty(r.set)) continue;
    add(r.table, r.from, [...(r.proto ? ['-p', r.proto] : []), ...comment(r.set.comment), ...matchSet(r.set, r.dir), '-j', r.to]);
  }
  if (nonEmpty(KUBE_CLUSTER_IP)) {
    // Masquerade off-cluster traffic to a VIP (localDetector.IfNotLocal); without a detector,
    // masquerade node traffic whose source is a VIP ("src,dst").
    const head = [...comment(KUBE_CLUSTER_IP.comment), '-m', 'set', '--match-set', KUBE_CLUSTER_IP.name];
    add(
      'nat',
      KUBE_SERVICES,
      cfg.podCidr ? [...head, 'dst,dst', '!', '-s', cfg.podCidr, '-j', KUBE_MARK_MASQ] : [...head, 'src,dst', '-j', KUBE_MARK_MASQ],
    );
  }
  add('nat', KUBE_SERVICES, ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', KUBE_NODE_PORT]);
  add('nat', KUBE_LOAD_BALANCER, ['-j', KUBE_MARK_MASQ]);
  add('filter', KUBE_SOURCE_RANGES_FIREWALL, ['-j', 'DROP']);
  // acceptIPVSTraffic: at the end of KUBE-SERVICES, in case other rules would block IPVS traffic.
  for (const s of [KUBE_CLUSTER_IP, KUBE_LOAD_BALANCER_SET])
    if (nonEmpty(s)) add('nat', KUBE_SERVICES, [...matchSet(s, 'dst,dst'), '-j', 'ACCEPT']);
  add('filter', KUBE_FORWARD, [...comment('kubernetes forwarding rules'), '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT']);
  add('filter', KUBE_FORWARD, [
    ...comment('kubernetes forwarding conntrack rule'),
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  ]);
  add('filter', KUBE_NODE_PORT, [
    ...comment(KUBE_HEALTH_CHECK_NODE_PORT.comment),
    ...matchSet(KUBE_HEALTH_CHECK_NODE_PORT, 'dst'),
    '-j',
    'ACCEPT',
  ]);
  // Block access to host ports through VIPs (kubernetes#72236).
  for (const s of [KUBE_LOAD_BALANCER_SET, KUBE_CLUSTER_IP, KUBE_EXTERNAL_IP, KUBE_EXTERNAL_IP_LOCAL])
    add('filter', KUBE_IPVS_FILTER, [...matchSet(s, 'dst,dst'), '-j', 'RETURN']);
  add('filter', KUBE_IPVS_FILTER, [...matchSet(KUBE_HEALTH_CHECK_NODE_PORT, 'dst'), '-j', 'RETURN']);
  add('filter', KUBE_IPVS_FILTER, ['-m', 'conntrack', '--ctstate', 'NEW', ...matchSet(KUBE_IPVS_IPS, 'dst'), '-j', 'REJECT']);
  add('nat', KUBE_POSTROUTING, ['-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN']);
  add('nat', KUBE_POSTROUTING, ['-j', 'MARK', '--xor-mark', mark]);
  add('nat', KUBE_POSTROUTING, [...comment('kubernetes service traffic requiring SNAT'), '-j', 'MASQUERADE', '--random-fully']);
  add('nat', KUBE_MARK_MASQ, ['-j', 'MARK', '--or-mark', mark]);

  return {
    nat: NAT_CHAINS.map((name) => ({ name, rules: rules.get(`nat ${name}`)! })),
    filter: FILTER_CHAINS.map((name) => ({ name, rules: rules.get(`filter ${name}`)! })),
  };
}

/** Everything `state` puts on the node. */
export function desiredState(state: ClusterState, cfg: ProxyConfig): Desired {
  const virtualServers = new Map<string, VirtualServer>();
  for (const svc of state.services) serviceVirtualServers(svc, state, cfg, virtualServers);
  const { addresses, sets } = addressesAndSets(state);
  return { addresses, virtualServers, sets, ruleset: buildRuleset(sets, cfg) };
}

// --- payloads ------------------------------------------------------------------------------------

/** One sync's inputs for the kernel tools, applied in this order by backend.ts. */
export interface Payload {
  kind: 'full' | 'partial';
  /** Full syncs: create kube-ipvs0 (EnsureDummyDevice) and set the sysctls. */
  ensureDevice: boolean;
  /** `ip -batch` lines binding new addresses to kube-ipvs0 ('' when none). */
  bind: string;
  /** Full syncs: `ipvsadm-restore` input (it clears the table first); partial syncs: `ipvsadm -R`
   * input ('' when nothing changes). */
  ipvsadm: string;
  /** `ipset restore` input ('' when nothing changes). */
  ipset: string;
  /** `iptables-restore --noflush` input: always the whole KUBE-* payload, as kube-proxy sends. */
  iptables: string;
  /** `ip -batch` lines removing addresses no longer wanted ('' when none). */
  unbind: string;
  /** What the node must hold afterwards, for read-back. */
  desired: Desired;
  stats: {
    virtualServers: number;
    realServers: number;
    setEntries: number;
    addresses: number;
    /** Lines across the five inputs (what apply sends). */
    lines: number;
  };
}

const vsLine = (op: '-A' | '-E', vs: VirtualServer): string =>
  `${op} ${vsKey(vs.protocol, vs.address, vs.port)} -s ${vs.scheduler}${vs.persistent !== undefined ? ` -p ${vs.persistent}` : ''}`;
const rsLine = (vs: VirtualServer, real: string): string => `-a ${vsKey(vs.protocol, vs.address, vs.port)} -r ${real} -m -w 1`;
/** A new virtual server with all its real servers. */
const addVsLines = (vs: VirtualServer): string[] => [vsLine('-A', vs), ...[...vs.reals].map((r) => rsLine(vs, r))];
const bindLine = (op: 'add' | 'del', address: string): string => `address ${op} ${address}/32 dev ${DUMMY_DEVICE}`;

const countLines = (s: string): number => (s === '' ? 0 : s.split('\n').length - 1);

function finish(kind: Payload['kind'], desired: Desired, parts: Omit<Payload, 'kind' | 'desired' | 'stats' | 'ensureDevice'>): Payload {
  let realServers = 0;
  for (const vs of desired.virtualServers.values()) realServers += vs.reals.size;
  let setEntries = 0;
  for (const s of desired.sets.values()) setEntries += s.size;
  const lines =
    countLines(parts.bind) + countLines(parts.ipvsadm) + countLines(parts.ipset) + countLines(parts.iptables) + countLines(parts.unbind);
  return {
    kind,
    ensureDevice: kind === 'full',
    ...parts,
    desired,
    stats: { virtualServers: desired.virtualServers.size, realServers, setEntries, addresses: desired.addresses.size, lines },
  };
}

const join = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

/** Full sync of `state` onto a node namespace, from nothing (or replacing what is there). */
export function renderFull(state: ClusterState, cfg: ProxyConfig): Payload {
  const desired = desiredState(state, cfg);
  const bind = [`address flush dev ${DUMMY_DEVICE}`, ...[...desired.addresses].map((a) => bindLine('add', a))];
  // ipvsadm-restore clears the table (`ipvsadm -C`) before reading these lines.
  const ipvsadm = [...desired.virtualServers.values()].flatMap(addVsLines);
  const ipset: string[] = [];
  for (const s of SETS) ipset.push(`${createLine(s)} -exist`, `flush ${s.name}`);
  for (const s of SETS) for (const e of desired.sets.get(s.name)!) ipset.push(`add ${s.name} ${e}`);
  return finish('full', desired, {
    bind: join(bind),
    ipvsadm: join(ipvsadm),
    ipset: join(ipset),
    iptables: toRestorePayload(desired.ruleset),
    unbind: '',
  });
}

/**
 * The sync from `prev` (assumed installed) to `next`: addresses, virtual servers, real servers and
 * set entries that differ, and the whole iptables payload. Virtual and real servers are only
 * compared for services whose Service object or endpoints changed (src/model/change.ts); set
 * entries and addresses are recomputed for all services, as kube-proxy does, because one entry
 * can belong to two services (two services with the same endpoint share a KUBE-LOOP-BACK entry).
 * Removed real servers are deleted at once: kube-proxy's graceful termination sets their weight
 * to 0 first and deletes them when their connections are gone, which a benchmark's sync does not
 * wait for.
 */
export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): Payload {
  const desired = desiredState(next, cfg);
  const before = new Map(prev.services.map((s) => [serviceKey(s), s]));
  const oldVs = new Map<string, VirtualServer>();
  const newVs = new Map<string, VirtualServer>();
  const nextKeys = new Set<string>();
  for (const s of next.services) {
    const key = serviceKey(s);
    nextKeys.add(key);
    const old = before.get(key);
    if (old && sameService(old, s) && sameEndpoints(prev.endpoints[key], next.endpoints[key])) continue;
    if (old) serviceVirtualServers(old, prev, cfg, oldVs);
    serviceVirtualServers(s, next, cfg, newVs);
  }
  for (const s of prev.services) if (!nextKeys.has(serviceKey(s))) serviceVirtualServers(s, prev, cfg, oldVs);

  const ipvsadm: string[] = [];
  for (const [key, vs] of newVs) {
    const old = oldVs.get(key);
    if (!old) {
      ipvsadm.push(...addVsLines(vs));
      continue;
    }
    if (old.scheduler !== vs.scheduler || old.persistent !== vs.persistent) ipvsadm.push(vsLine('-E', vs));
    for (const r of vs.reals) if (!old.reals.has(r)) ipvsadm.push(rsLine(vs, r));
    for (const r of old.reals) if (!vs.reals.has(r)) ipvsadm.push(`-d ${key} -r ${r}`);
  }
  // cleanLegacyService: virtual servers no longer wanted (their real servers go with them).
  for (const key of oldVs.keys()) if (!newVs.has(key)) ipvsadm.push(`-D ${key}`);

  const was = addressesAndSets(prev);
  const ipset: string[] = [];
  for (const s of SETS) {
    const want = desired.sets.get(s.name)!;
    const have = was.sets.get(s.name)!;
    for (const e of want) if (!have.has(e)) ipset.push(`add ${s.name} ${e}`);
    for (const e of have) if (!want.has(e)) ipset.push(`del ${s.name} ${e}`);
  }
  const bind: string[] = [];
  for (const a of desired.addresses) if (!was.addresses.has(a)) bind.push(bindLine('add', a));
  const unbind: string[] = [];
  for (const a of was.addresses) if (!desired.addresses.has(a)) unbind.push(bindLine('del', a));

  return finish('partial', desired, {
    bind: join(bind),
    ipvsadm: join(ipvsadm),
    ipset: join(ipset),
    iptables: toRestorePayload(desired.ruleset),
    unbind: join(unbind),
  });
}
