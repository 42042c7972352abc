// Pure rendering of kube-proxy's iptables-mode rules (pkg/proxy/iptables/proxier.go,
// syncProxyRules ≈L760–1560 and writeServiceToEndpointRules ≈L1620). Line numbers are approximate.
//
// kube-proxy settings this reproduces (svcbench has no flags for the others):
//  - local traffic detector "cluster-cidr" from cfg.podCidr ("" means no detector);
//  - masqueradeAll=false; MASQUERADE with --random-fully (iptables ≥ 1.6.2 has it);
//  - nf_conntrack_tcp_be_liberal unset, so KUBE-FORWARD drops ctstate INVALID (≈L1450);
//  - nodePortAddresses unset (match all: `-m addrtype --dst-type LOCAL`), IPv4 only;
//  - localhostNodePorts=false: svcbench does not serve NodePorts on 127.0.0.1, so the KUBE-FIREWALL
//    "block incoming localnet connections" rule (≈L873) is omitted and the KUBE-NODEPORTS jump gets
//    `! -d 127.0.0.0/8`, exactly as kube-proxy renders with --iptables-localhost-nodeports=false;
//  - no nfacct counters, no ExternalIPs/LoadBalancer/healthCheckNodePort (not in the model),
//    internalTrafficPolicy Cluster, all endpoints ready.
// cfg.masqueradeMark is used verbatim (kube-proxy itself prints `%#08x`, "0x00004000", which the
// kernel stores as 0x4000 too). cfg.nodeIPs is not needed: with nodePortAddresses unset kube-proxy
// matches node ports by `--dst-type LOCAL`, not by address.
// Services are emitted in input order (kube-proxy's order is that of a Go map, i.e. random), so a
// scenario controls where its target service sits in the linear KUBE-SERVICES chain.
import { serviceKey } from '../../src/model/types.js';
import type { ClusterState, Endpoint, ProxyConfig, Service } from '../../src/model/types.js';
import { endpointChainName, endpointString, isServiceChainName, serviceChainNames, servicePortName } from './hash.js';
import { toRestorePayload, toRuleCommands } from './ruleset.js';
import type { Chain, JumpRule, Rule, Ruleset } from './ruleset.js';

// Chain constants (≈L38–89).
export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_FIREWALL = 'KUBE-FIREWALL';
/** Above this many endpoints (summed over service ports) comments are dropped (≈L673). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** Filter chains declared (and so flushed and rewritten) on every sync (≈L800). */
export const FILTER_TOP_LEVEL_CHAINS = [KUBE_SERVICES, KUBE_EXTERNAL_SERVICES, KUBE_FORWARD, KUBE_NODEPORTS, KUBE_PROXY_FIREWALL] as const;
/** Nat chains declared on every sync (≈L804). */
export const NAT_TOP_LEVEL_CHAINS = [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ] as const;

const NEW_CONN = ['-m', 'conntrack', '--ctstate', 'NEW'] as const;
const jump = (table: JumpRule['table'], srcChain: string, dstChain: string, comment: string, extra: readonly string[] = []): JumpRule => ({
  table,
  srcChain,
  dstChain,
  // extraArgs, then the comment, then -j (≈L1090: EnsureRule(Prepend, …)).
  rule: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : []), '-j', dstChain],
});

/** iptablesJumpChains (≈L395), in kube-proxy's order. */
export const IPTABLES_JUMP_CHAINS: readonly JumpRule[] = [
  jump('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', NEW_CONN),
  jump('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports'),
  jump('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', NEW_CONN),
  jump('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', NEW_CONN),
  jump('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules'),
];

/**
 * iptablesKubeletJumpChains (≈L412): kube-proxy ensures these too on every full sync, whatever
 * localhostNodePorts says, so KUBE-FIREWALL exists but stays empty in svcbench (see header).
 */
export const IPTABLES_KUBELET_JUMP_CHAINS: readonly JumpRule[] = [
  jump('filter', 'INPUT', KUBE_FIREWALL, ''),
  jump('filter', 'OUTPUT', KUBE_FIREWALL, ''),
];

/** Everything a full sync ensures, in kube-proxy's order. */
export const ALL_JUMP_RULES: readonly JumpRule[] = [...IPTABLES_JUMP_CHAINS, ...IPTABLES_KUBELET_JUMP_CHAINS];

/**
 * argv (no binary) for kube-proxy's EnsureChain + EnsureRule(Prepend) of one jump rule:
 * run `newChain` (exit status 1 "Chain already exists" is success), then `check`, and `insert`
 * only if the check fails. On the restore path run these before the payload, as kube-proxy does;
 * on the rule-by-rule path run them after the commands (whose `-N` would otherwise collide).
 */
export function jumpRuleArgv(j: JumpRule): { newChain: string[]; check: string[]; insert: string[] } {
  return {
    newChain: ['-t', j.table, '-N', j.dstChain],
    check: ['-t', j.table, '-C', j.srcChain, ...j.rule],
    insert: ['-t', j.table, '-I', j.srcChain, ...j.rule],
  };
}

export interface RenderStats {
  services: number;
  servicePorts: number;
  /** Endpoints summed over service ports, as kube-proxy counts them for large-cluster mode. */
  endpoints: number;
  filterChains: number;
  filterRules: number;
  natChains: number;
  natRules: number;
  /** Lines in the payload, COMMITs and table headers included. */
  payloadLines: number;
}

export interface RenderResult {
  kind: 'full' | 'partial';
  /** Input for `iptables-restore --noflush` (kube-proxy adds --counters; it changes nothing here). */
  payload: string;
  /** The complete ruleset the tables should hold afterwards (KUBE-* chains only), for read-back. */
  desired: Ruleset;
  /**
   * Rule-by-rule controller: argv per iptables call (no binary), from prev (or nothing) to next.
   * A getter, computed on first access and then kept.
   */
  readonly commands: string[][];
  /** Jump rules to ensure in this sync: all of ALL_JUMP_RULES on a full sync, none on a partial one. */
  jumpRules: readonly JumpRule[];
  largeClusterMode: boolean;
  /** Partial syncs: keys ("ns/name") of services whose per-service chains are in the payload. */
  changedServices: string[];
  /** Partial syncs: nat chains deleted by the payload (`:CHAIN` + `-X CHAIN`). */
  staleChains: string[];
  stats: RenderStats;
}

// --- rendering ----------------------------------------------------------------------------------

// probability(n) is fmt.Sprintf("%0.10f", 1.0/n) (≈L451), cached as kube-proxy does. Go rounds an
// exact tie to even where JavaScript's toFixed rounds it up. Among 1/n only 1/2048 =
// 0.00048828125 is a tie at 10 digits (a double that is a tie must be a dyadic fraction with
// exactly 11 fractional binary digits), so it alone is corrected.
const probabilities: string[] = ['<bad value>'];
export function probability(n: number): string {
  if (n === 2048) return '0.0004882812';
  let p = probabilities[n];
  if (p === undefined) {
    p = (1 / n).toFixed(10);
    if (n < 100_000) probabilities[n] = p;
  }
  return p;
}

interface ServiceChains {
  key: string;
  chains: Chain[];
}

interface Built {
  ruleset: Ruleset;
  /** Per-service nat chains, per service, in emission order. */
  perService: ServiceChains[];
  largeClusterMode: boolean;
  servicePorts: number;
  endpoints: number;
}

interface PortEndpoint {
  ip: string;
  local: boolean;
  /** Endpoint.String(): "ip:targetPort". */
  str: string;
}

/**
 * The endpoints of one service port, as EndpointSliceCache builds them: deduplicated by
 * "ip:port" (local wins, endpointslicecache.go addEndpoints) and sorted by that string
 * (byEndpoint). Note that this is string order: 10.0.0.10:80 sorts before 10.0.0.2:80.
 */
function portEndpoints(eps: readonly Endpoint[], targetPort: number): PortEndpoint[] {
  const list: PortEndpoint[] = eps.map((e) => ({ ip: e.ip, local: e.local, str: endpointString(e.ip, targetPort) }));
  if (list.length < 2) return list;
  list.sort((a, b) => (a.str < b.str ? -1 : a.str > b.str ? 1 : 0));
  let w = 1;
  for (let r = 1; r < list.length; r++) {
    const e = list[r]!;
    const last = list[w - 1]!;
    if (e.str === last.str) last.local ||= e.local;
    else list[w++] = e;
  }
  list.length = w;
  return list;
}

function externallyAccessible(svc: Service, nodePort: number | undefined): nodePort is number {
  // kube-proxy: NodePort != 0 || external IPs || LB IPs. The model only has node ports, which the
  // API only allocates for type NodePort.
  return svc.type === 'NodePort' && nodePort !== undefined && nodePort !== 0;
}

/** Build the complete structured ruleset for one state (the body of syncProxyRules). */
function build(state: ClusterState, cfg: ProxyConfig): Built {
  const mark = cfg.masqueradeMark;
  const podCidr = cfg.podCidr;
  // First pass: endpoints per service port, and their total (≈L905: totalEndpoints).
  const portEps: PortEndpoint[][] = [];
  let totalEndpoints = 0;
  for (const svc of state.services) {
    const eps = state.endpoints[serviceKey(svc)] ?? [];
    for (const port of svc.ports) {
      const list = eps.length === 0 ? [] : portEndpoints(eps, port.targetPort);
      totalEndpoints += list.length;
      portEps.push(list);
    }
  }
  // proxier.largeClusterMode = totalEndpoints > largeClusterEndpointsThreshold (≈L912).
  const largeClusterMode = totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD;

  const natServices: Rule[] = [];
  const natNodePorts: Rule[] = [];
  const filterServices: Rule[] = [];
  const filterExternal: Rule[] = [];
  const perService: ServiceChains[] = [];
  let servicePorts = 0;

  for (const svc of state.services) {
    const key = serviceKey(svc);
    const own: Chain[] = [];
    for (const port of svc.ports) {
      const all = portEps[servicePorts++]!;
      const proto = port.protocol.toLowerCase();
      const spn = servicePortName(svc, port);
      const names = serviceChainNames(spn, proto);
      const local = all.filter((e) => e.local);
      const nodePort = port.nodePort;
      const external = externallyAccessible(svc, nodePort);
      // CategorizeEndpoints: internal policy is always Cluster here, so clusterEndpoints = all and
      // allLocallyReachableEndpoints = all; local endpoints matter for external Local policy only.
      const externalLocal = external && svc.externalTrafficPolicy === 'Local';
      const hasEndpoints = all.length > 0;
      const hasExternalEndpoints = externalLocal ? local.length > 0 : hasEndpoints;
      const externalPolicyChain = externalLocal ? names.svl : names.svc;
      const usesExternalChain = hasEndpoints && external;
      const usesLocalPolicyChain = externalLocal && local.length > 0;
      const dport = String(port.port);
      const ip = svc.clusterIP;
      const clusterIPComment = `${spn} cluster IP`;

      // Capture the clusterIP (≈L1022), or REJECT it in filter when there are no endpoints.
      if (hasEndpoints) {
        natServices.push([
          '-m',
          'comment',
          '--comment',
          clusterIPComment,
          '-m',
          proto,
          '-p',
          proto,
          '-d',
          ip,
          '--dport',
          dport,
          '-j',
          names.svc,
        ]);
      } else {
        filterServices.push([
          '-m',
          'comment',
          '--comment',
          `${spn} has no endpoints`,
          '-m',
          proto,
          '-p',
          proto,
          '-d',
          ip,
          '--dport',
          dport,
          '-j',
          'REJECT',
        ]);
      }

      // Capture node ports (≈L1127).
      if (external) {
        if (hasEndpoints) {
          natNodePorts.push(['-m', 'comment', '--comment', spn, '-m', proto, '-p', proto, '--dport', String(nodePort), '-j', names.ext]);
        }
        if (!hasExternalEndpoints) {
          const why = hasEndpoints ? `${spn} has no local endpoints` : `${spn} has no endpoints`;
          filterExternal.push([
            '-m',
            'comment',
            '--comment',
            why,
            '-m',
            'addrtype',
            '--dst-type',
            'LOCAL',
            '-m',
            proto,
            '-p',
            proto,
            '--dport',
            String(nodePort),
            '-j',
            hasEndpoints ? 'DROP' : 'REJECT',
          ]);
        }
      }

      if (!hasEndpoints) continue; // no nat chains at all for this port

      // Per-service chains, declared in kube-proxy's order: EXT, (FW), SVC, SVL, SEPs.
      // KUBE-EXT-* (≈L1230–1295).
      if (usesExternalChain) {
        const ext: Rule[] = [];
        if (!externalLocal) {
          ext.push(['-m', 'comment', '--comment', `masquerade traffic for ${spn} external destinations`, '-j', KUBE_MARK_MASQ]);
        } else {
          if (podCidr) {
            ext.push(['-m', 'comment', '--comment', `pod traffic for ${spn} external destinations`, '-s', podCidr, '-j', names.svc]);
          }
          ext.push([
            '-m',
            'comment',
            '--comment',
            `masquerade LOCAL traffic for ${spn} external destinations`,
            '-m',
            'addrtype',
            '--src-type',
            'LOCAL',
            '-j',
            KUBE_MARK_MASQ,
          ]);
          ext.push([
            '-m',
            'comment',
            '--comment',
            `route LOCAL traffic for ${spn} external destinations`,
            '-m',
            'addrtype',
            '--src-type',
            'LOCAL',
            '-j',
            names.svc,
          ]);
        }
        if (hasExternalEndpoints) ext.push(['-j', externalPolicyChain]);
        own.push({ name: names.ext, rules: ext });
      }

      // KUBE-SVC-*: masquerade off-cluster sources (≈L1214), then the endpoints.
      const svcRules: Rule[] = [];
      if (podCidr) {
        svcRules.push([
          '-m',
          'comment',
          '--comment',
          clusterIPComment,
          '-m',
          proto,
          '-p',
          proto,
          '-d',
          ip,
          '--dport',
          dport,
          '!',
          '-s',
          podCidr,
          '-j',
          KUBE_MARK_MASQ,
        ]);
      }
      const sepNames = all.map((e) => endpointChainName(spn, proto, e.str));
      writeServiceToEndpointRules(svcRules, svc, spn, all, sepNames, largeClusterMode);
      own.push({ name: names.svc, rules: svcRules });

      // KUBE-SVL-*: local endpoints only, no masquerade rule.
      if (usesLocalPolicyChain) {
        const svlRules: Rule[] = [];
        const localNames = local.map((e) => endpointChainName(spn, proto, e.str));
        writeServiceToEndpointRules(svlRules, svc, spn, local, localNames, largeClusterMode);
        own.push({ name: names.svl, rules: svlRules });
      }

      // KUBE-SEP-* (≈L1350): hairpin masquerade, then DNAT (with the affinity --set). In large
      // clusters appendServiceCommentLocked (≈L673) leaves out the comment, here and in
      // writeServiceToEndpointRules.
      // (Each rule is one array literal: growing arrays with push costs measurably at 10k services.)
      const affinity = svc.sessionAffinity === 'ClientIP';
      for (let i = 0; i < all.length; i++) {
        const e = all[i]!;
        const sep = sepNames[i]!;
        const hairpin = largeClusterMode
          ? ['-s', e.ip, '-j', KUBE_MARK_MASQ]
          : ['-m', 'comment', '--comment', spn, '-s', e.ip, '-j', KUBE_MARK_MASQ];
        let dnat: string[];
        if (largeClusterMode) {
          dnat = affinity
            ? ['-m', 'recent', '--name', sep, '--set', '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', e.str]
            : ['-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', e.str];
        } else {
          dnat = affinity
            ? [
                '-m',
                'comment',
                '--comment',
                spn,
                '-m',
                'recent',
                '--name',
                sep,
                '--set',
                '-m',
                proto,
                '-p',
                proto,
                '-j',
                'DNAT',
                '--to-destination',
                e.str,
              ]
            : ['-m', 'comment', '--comment', spn, '-m', proto, '-p', proto, '-j', 'DNAT', '--to-destination', e.str];
        }
        own.push({ name: sep, rules: [hairpin, dnat] });
      }
    }
    perService.push({ key, chains: own });
  }

  // The tail call to KUBE-NODEPORTS must stay the last rule of KUBE-SERVICES (≈L1422).
  natServices.push([
    '-m',
    'comment',
    '--comment',
    'kubernetes service nodeports; NOTE: this must be the last rule in this chain',
    '-m',
    'addrtype',
    '--dst-type',
    'LOCAL',
    '!',
    '-d',
    '127.0.0.0/8',
    '-j',
    KUBE_NODEPORTS,
  ]);

  const nat: Chain[] = [
    { name: KUBE_SERVICES, rules: natServices },
    { name: KUBE_NODEPORTS, rules: natNodePorts },
    {
      // ≈L825–850
      name: KUBE_POSTROUTING,
      rules: [
        ['-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN'],
        ['-j', 'MARK', '--xor-mark', mark],
        ['-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE', '--random-fully'],
      ],
    },
    { name: KUBE_MARK_MASQ, rules: [['-j', 'MARK', '--or-mark', mark]] },
  ];
  for (const s of perService) for (const c of s.chains) nat.push(c);

  const filter: Chain[] = [
    { name: KUBE_SERVICES, rules: filterServices },
    { name: KUBE_EXTERNAL_SERVICES, rules: filterExternal },
    {
      // ≈L1450–1503
      name: KUBE_FORWARD,
      rules: [
        ['-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP'],
        ['-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', `${mark}/${mark}`, '-j', 'ACCEPT'],
        [
          '-m',
          'comment',
          '--comment',
          'kubernetes forwarding conntrack rule',
          '-m',
          'conntrack',
          '--ctstate',
          'RELATED,ESTABLISHED',
          '-j',
          'ACCEPT',
        ],
      ],
    },
    { name: KUBE_NODEPORTS, rules: [] }, // healthCheckNodePort ACCEPT rules would go here
    { name: KUBE_PROXY_FIREWALL, rules: [] }, // loadBalancerSourceRanges DROP rules would go here
  ];

  return {
    ruleset: { filter, nat },
    perService,
    largeClusterMode,
    servicePorts,
    endpoints: totalEndpoints,
  };
}

/**
 * writeServiceToEndpointRules (≈L1624): all `recent --rcheck` affinity rules first, then one rule
 * per endpoint, endpoint i of n matching with probability 1/(n-i), the last one unconditionally.
 */
function writeServiceToEndpointRules(
  out: Rule[],
  svc: Service,
  spn: string,
  endpoints: readonly PortEndpoint[],
  sepNames: readonly string[],
  largeClusterMode: boolean,
): void {
  const n = endpoints.length;
  const comments = largeClusterMode ? undefined : endpoints.map((e) => `${spn} -> ${e.str}`);
  if (svc.sessionAffinity === 'ClientIP') {
    const seconds = String(svc.stickyMaxAgeSeconds);
    for (let i = 0; i < n; i++) {
      const sep = sepNames[i]!;
      const rcheck = ['-m', 'recent', '--name', sep, '--rcheck', '--seconds', seconds, '--reap', '-j', sep];
      out.push(comments ? ['-m', 'comment', '--comment', comments[i]!, ...rcheck] : rcheck);
    }
  }
  for (let i = 0; i < n; i++) {
    const sep = sepNames[i]!;
    const last = i === n - 1;
    if (comments) {
      out.push(
        last
          ? ['-m', 'comment', '--comment', comments[i]!, '-j', sep]
          : [
              '-m',
              'comment',
              '--comment',
              comments[i]!,
              '-m',
              'statistic',
              '--mode',
              'random',
              '--probability',
              probability(n - i),
              '-j',
              sep,
            ],
      );
    } else {
      out.push(last ? ['-j', sep] : ['-m', 'statistic', '--mode', 'random', '--probability', probability(n - i), '-j', sep]);
    }
  }
}

/** `payloadChains`: chains in the payload per table (stale ones included), `payloadRules` likewise. */
function stats(b: Built, services: number, payloadChains: number, payloadRules: number, deleted: number): RenderStats {
  let filterRules = 0;
  let natRules = 0;
  for (const c of b.ruleset.filter) filterRules += c.rules.length;
  for (const c of b.ruleset.nat) natRules += c.rules.length;
  // "*table" + "COMMIT" per table, a chain line per chain, one line per rule and per -X.
  const payloadLines = 4 + payloadChains + payloadRules + deleted;
  return {
    services,
    servicePorts: b.servicePorts,
    endpoints: b.endpoints,
    filterChains: b.ruleset.filter.length,
    filterRules,
    natChains: b.ruleset.nat.length,
    natRules,
    payloadLines,
  };
}

/**
 * A full sync: every chain declared and written, jump rules to be ensured. `commands` create
 * everything from nothing (tables without any of these chains).
 */
export function renderFull(state: ClusterState, cfg: ProxyConfig): RenderResult {
  const b = build(state, cfg);
  const payload = toRestorePayload(b.ruleset);
  let commands: string[][] | undefined;
  const s = stats(b, state.services.length, 0, 0, 0);
  s.payloadLines += s.filterChains + s.natChains + s.filterRules + s.natRules;
  return {
    kind: 'full',
    payload,
    desired: b.ruleset,
    // Computed on first use: the restore path never needs it (150,000 arrays at 10k services).
    get commands() {
      return (commands ??= toRuleCommands(b.ruleset));
    },
    jumpRules: ALL_JUMP_RULES,
    largeClusterMode: b.largeClusterMode,
    changedServices: [],
    staleChains: [],
    stats: s,
  };
}

const sameEndpoints = (a: readonly Endpoint[], b: readonly Endpoint[]): boolean => {
  if (a.length !== b.length) return false;
  const key = (e: Endpoint): string => `${e.ip}|${e.local}`;
  const x = a.map(key).sort();
  const y = b.map(key).sort();
  return x.every((k, i) => k === y[i]);
};

const sameService = (a: Service, b: Service): boolean =>
  a.type === b.type &&
  a.clusterIP === b.clusterIP &&
  a.sessionAffinity === b.sessionAffinity &&
  a.stickyMaxAgeSeconds === b.stickyMaxAgeSeconds &&
  a.externalTrafficPolicy === b.externalTrafficPolicy &&
  a.ports.length === b.ports.length &&
  a.ports.every((p, i) => {
    const q = b.ports[i]!;
    return (
      p.name === q.name && p.protocol === q.protocol && p.port === q.port && p.targetPort === q.targetPort && p.nodePort === q.nodePort
    );
  });

/**
 * Services whose Service object or endpoints differ between prev and next, present in next
 * (kube-proxy's serviceUpdateResult/endpointUpdateResult.UpdatedServices, ≈L1197).
 */
export function changedServiceKeys(prev: ClusterState, next: ClusterState): string[] {
  const before = new Map<string, Service>();
  for (const s of prev.services) before.set(serviceKey(s), s);
  const changed: string[] = [];
  for (const s of next.services) {
    const key = serviceKey(s);
    const old = before.get(key);
    if (!old || !sameService(old, s) || !sameEndpoints(prev.endpoints[key] ?? [], next.endpoints[key] ?? [])) changed.push(key);
  }
  return changed;
}

/**
 * A partial sync from prev (assumed installed) to next, as kube-proxy's syncProxyRules with
 * doFullSync=false: the top-level chains are declared and rewritten for all services; the
 * SVC/SVL/EXT/FW/SEP chains only for services whose Service or endpoints changed (the others
 * are absent, so --noflush leaves them alone); per-service chains that prev had and next has not
 * are declared and deleted with `-X` (kube-proxy finds them with iptables-save; here they come
 * from rendering prev, and deletion happens on every sync, even in large-cluster mode where
 * kube-proxy only does it once per syncPeriod). Jump rules are not re-ensured.
 * `commands` edit prev into next: see toRuleCommands.
 */
export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): RenderResult {
  const b = build(next, cfg);
  const before = build(prev, cfg);
  // Deviation: when large-cluster mode flips, every SVC/SEP rule changes its comments, but
  // kube-proxy would rewrite only the changed services and leave the others with the old
  // comments (harmless for matching). Treat all services as changed so read-back stays exact.
  const changed = b.largeClusterMode === before.largeClusterMode ? changedServiceKeys(prev, next) : next.services.map(serviceKey);
  const changedSet = new Set(changed);

  const nat: Chain[] = b.ruleset.nat.filter((c) => !isServiceChainName(c.name));
  for (const s of b.perService) if (changedSet.has(s.key)) nat.push(...s.chains);

  const active = new Set<string>();
  for (const c of b.ruleset.nat) active.add(c.name);
  const stale: string[] = [];
  for (const c of before.ruleset.nat) if (isServiceChainName(c.name) && !active.has(c.name)) stale.push(c.name);

  const payload = toRestorePayload({ filter: b.ruleset.filter, nat }, { nat: stale });
  let commands: string[][] | undefined;
  let rules = 0;
  for (const c of b.ruleset.filter) rules += c.rules.length;
  for (const c of nat) rules += c.rules.length;
  return {
    kind: 'partial',
    payload,
    desired: b.ruleset,
    get commands() {
      return (commands ??= toRuleCommands(b.ruleset, before.ruleset));
    },
    jumpRules: [],
    largeClusterMode: b.largeClusterMode,
    changedServices: changed,
    staleChains: stale,
    stats: stats(b, next.services.length, b.ruleset.filter.length + nat.length + stale.length, rules, stale.length),
  };
}
