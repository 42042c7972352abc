import { sameEndpoints, sameService } from '../../src/model/change.js';
import { serviceKey, type ClusterState, type Endpoint, type ProxyConfig, type Service } from '../../src/model/types.js';
import { describeKey, intToIp, ipToInt, KEY_SIZE, PROTO, VALUE_SIZE, writeKey, writeValue, type SvcEntry } from './layout.js';

// Pure: cluster state → svc_map entries (DESIGN.md §1). A full sync writes every frontend; a
// partial sync rewrites only the frontends of services kube-proxy's change trackers would report
// changed (src/model/change.ts) and deletes the slots they no longer have.

/** What connect4/sendmsg4 and tc ingress look up: a VIP or node IP, a port and a protocol. */
export interface Frontend {
  addr: number;
  port: number;
  proto: number;
  /** ClientIP affinity timeout in seconds; 0 without affinity. */
  affinity: number;
  /** Endpoint addresses, slots 1..N; every endpoint of a frontend listens on the service port's targetPort. */
  endpoints: number[];
  target: number;
}

export interface MapBatch {
  keys: Buffer;
  values: Buffer;
  count: number;
}

export interface EbpfPayload {
  /** Entries to write, in an order safe for connections racing the update: a frontend's endpoint
   * slots before its head (slot 0), so a head never counts a slot that is not there yet. */
  update: MapBatch;
  /** Keys to delete after the update: heads first, so a removed frontend stops matching before
   * its slots go. */
  remove: { keys: Buffer; count: number };
  /** Every svc_map entry once this sync is applied, by describeKey (computed on demand: read-back
   * runs outside the timed region). */
  desired(): Map<string, SvcEntry>;
}

/**
 * The endpoints a ClusterIP frontend selects from: internalTrafficPolicy Local keeps only this
 * node's endpoints (kube-proxy's InternalPolicyLocal; Cilium looks such a service up in its
 * internal scope, whose backends are the node-local ones). Without a local endpoint the head
 * counts none, and connect() to the ClusterIP is refused in the cgroup hook: no packet leaves, as
 * kube-proxy drops it, and as Cilium's socket LB refuses a service without backends.
 */
function internalIps(s: Service, eps: readonly Endpoint[], all: readonly number[]): readonly number[] {
  return s.internalTrafficPolicy === 'Local' ? all.filter((_, k) => eps[k]!.local) : all;
}

/** A service's frontends: its cluster IP per port and, for NodePort services, every node IP at the
 * node port. externalTrafficPolicy: Local keeps only node-local endpoints at the node port
 * (kube-proxy's and Cilium's rule), internalTrafficPolicy: Local at the cluster IP (internalIps). */
export function frontendsOf(s: Service, endpoints: readonly Endpoint[] | undefined, cfg: ProxyConfig): Frontend[] {
  const eps = endpoints ?? [];
  const out: Frontend[] = [];
  const affinity = s.sessionAffinity === 'ClientIP' ? s.stickyMaxAgeSeconds : 0;
  const all = eps.map((e) => ipToInt(e.ip));
  const internal = [...internalIps(s, eps, all)];
  const external = s.externalTrafficPolicy === 'Local' ? all.filter((_, k) => eps[k]!.local) : all;
  for (const p of s.ports) {
    const proto = PROTO[p.protocol];
    const target = p.targetPort;
    out.push({ addr: ipToInt(s.clusterIP), port: p.port, proto, affinity, endpoints: internal, target });
    if (s.type === 'NodePort' && p.nodePort !== undefined)
      for (const ip of cfg.nodeIPs) out.push({ addr: ipToInt(ip), port: p.nodePort, proto, affinity, endpoints: external, target });
  }
  return out;
}

/** Writes one frontend at entry `i` of the batch, endpoint slots before the head (EbpfPayload.update);
 * returns the next free entry. */
function writeFrontend(
  b: MapBatch,
  i: number,
  addr: number,
  port: number,
  proto: number,
  affinity: number,
  ips: readonly number[],
  target: number,
): number {
  for (let slot = 0; slot < ips.length; slot++, i++) {
    writeKey(b.keys, i * KEY_SIZE, addr, port, proto, slot + 1);
    writeValue(b.values, i * VALUE_SIZE, ips[slot]!, target, 0, 0);
  }
  writeKey(b.keys, i * KEY_SIZE, addr, port, proto, 0);
  writeValue(b.values, i * VALUE_SIZE, 0, 0, ips.length, affinity);
  return i + 1;
}

const allocBatch = (count: number): MapBatch => ({
  keys: Buffer.allocUnsafe(count * KEY_SIZE),
  values: Buffer.allocUnsafe(count * VALUE_SIZE),
  count,
});

/** The entries of `services`, written straight into the batch buffers (the full sync's hot path:
 * no intermediate objects, each endpoint address parsed once per service). Same entries, in the
 * same order, as encode(frontendsOf(…)). */
export function encodeServices(
  services: readonly Service[],
  endpointsOf: (s: Service) => readonly Endpoint[] | undefined,
  cfg: ProxyConfig,
): MapBatch {
  const nodeIPs = cfg.nodeIPs.map(ipToInt);
  let count = 0;
  for (const s of services) {
    const eps = endpointsOf(s) ?? [];
    const external = s.type === 'NodePort' ? (s.externalTrafficPolicy === 'Local' ? eps.filter((e) => e.local).length : eps.length) : 0;
    const internal = s.internalTrafficPolicy === 'Local' ? eps.filter((e) => e.local).length : eps.length;
    for (const p of s.ports)
      count += internal + 1 + (p.nodePort !== undefined && s.type === 'NodePort' ? nodeIPs.length * (external + 1) : 0);
  }
  const b = allocBatch(count);
  let i = 0;
  for (const s of services) {
    const eps = endpointsOf(s) ?? [];
    const ips = eps.map((e) => ipToInt(e.ip));
    const localIps = s.type === 'NodePort' && s.externalTrafficPolicy === 'Local' ? ips.filter((_, k) => eps[k]!.local) : ips;
    const clusterIps = internalIps(s, eps, ips);
    const affinity = s.sessionAffinity === 'ClientIP' ? s.stickyMaxAgeSeconds : 0;
    const vip = ipToInt(s.clusterIP);
    for (const p of s.ports) {
      const proto = PROTO[p.protocol];
      i = writeFrontend(b, i, vip, p.port, proto, affinity, clusterIps, p.targetPort);
      if (s.type === 'NodePort' && p.nodePort !== undefined)
        for (const n of nodeIPs) i = writeFrontend(b, i, n, p.nodePort, proto, affinity, localIps, p.targetPort);
    }
  }
  return b;
}

export function encode(frontends: readonly Frontend[]): MapBatch {
  let count = 0;
  for (const f of frontends) count += f.endpoints.length + 1;
  const b = allocBatch(count);
  let i = 0;
  for (const f of frontends) i = writeFrontend(b, i, f.addr, f.port, f.proto, f.affinity, f.endpoints, f.target);
  return b;
}

function entriesOf(frontends: readonly Frontend[]): Map<string, SvcEntry> {
  const out = new Map<string, SvcEntry>();
  for (const f of frontends) {
    const base = { addr: intToIp(f.addr), port: f.port, proto: f.proto };
    const head: SvcEntry = { ...base, slot: 0, value: { addr: '0.0.0.0', port: 0, count: f.endpoints.length, affinity: f.affinity } };
    out.set(describeKey(head), head);
    f.endpoints.forEach((ip, s) => {
      const entry: SvcEntry = { ...base, slot: s + 1, value: { addr: intToIp(ip), port: f.target, count: 0, affinity: 0 } };
      out.set(describeKey(entry), entry);
    });
  }
  return out;
}

const allFrontends = (state: ClusterState, cfg: ProxyConfig): Frontend[] =>
  state.services.flatMap((s) => frontendsOf(s, state.endpoints[serviceKey(s)], cfg));

export function renderFull(next: ClusterState, cfg: ProxyConfig): EbpfPayload {
  return {
    update: encodeServices(next.services, (s) => next.endpoints[keyOf(s)], cfg),
    remove: { keys: Buffer.alloc(0), count: 0 },
    desired: () => entriesOf(allFrontends(next, cfg)),
  };
}

/** "namespace/name" per service object, built once: states share unchanged service objects. */
const keys = new WeakMap<Service, string>();
function keyOf(s: Service): string {
  let k = keys.get(s);
  if (k === undefined) keys.set(s, (k = serviceKey(s)));
  return k;
}

/** The services a partial sync must rewrite (`added`: their frontends in `next`) and whose old
 * frontends may go (`dropped`: their frontends in `prev`), as kube-proxy's change trackers would
 * report them: a service is rewritten when it or its endpoints changed. Linear in the number of
 * services but cheap per service: both states usually list services in the same order and share
 * unchanged objects (as an informer cache does), so most services cost identity comparisons and
 * two lookups; anything else falls back to an index by "namespace/name". */
export function changedServices(prev: ClusterState, next: ClusterState): { added: Service[]; dropped: Service[] } {
  const added: Service[] = [];
  const dropped: Service[] = [];
  const ps = prev.services;
  const xs = next.services;
  let index: Map<string, Service> | undefined;
  const matched = new Set<Service>();
  let j = 0;
  for (let i = 0; i < xs.length; i++) {
    const s = xs[i]!;
    let p: Service | undefined = ps[j];
    if (p !== undefined && (p === s || (p.name === s.name && p.namespace === s.namespace))) j++;
    else if (j === ps.length && index === undefined)
      p = undefined; // every prev service is taken: s is new
    else {
      index ??= new Map(ps.map((x) => [keyOf(x), x]));
      p = index.get(keyOf(s));
      if (p) matched.add(p);
    }
    const k = keyOf(s);
    if (p === undefined) added.push(s);
    else if ((p !== s && !sameService(p, s)) || !sameEndpoints(prev.endpoints[k], next.endpoints[k])) {
      added.push(s);
      dropped.push(p);
    }
  }
  // Services of prev that next no longer has: the unmatched tail, or found by key after a reorder.
  if (index === undefined) dropped.push(...ps.slice(j));
  else if (j + matched.size < ps.length) {
    const kept = new Set(xs.map(keyOf));
    for (const p of ps) if (!kept.has(keyOf(p))) dropped.push(p);
  }
  return { added, dropped };
}

export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): EbpfPayload {
  const changes = changedServices(prev, next);
  const added = changes.added.flatMap((s) => frontendsOf(s, next.endpoints[keyOf(s)], cfg));
  const dropped = changes.dropped.flatMap((p) => frontendsOf(p, prev.endpoints[keyOf(p)], cfg));

  const kept = new Set<string>();
  for (const f of added) for (let s = 0; s <= f.endpoints.length; s++) kept.add(`${f.addr}|${f.port}|${f.proto}|${s}`);
  const stale: [Frontend, number][] = [];
  for (const f of dropped)
    for (let s = 0; s <= f.endpoints.length; s++) if (!kept.has(`${f.addr}|${f.port}|${f.proto}|${s}`)) stale.push([f, s]);
  stale.sort((a, b) => (a[1] === 0 ? 0 : 1) - (b[1] === 0 ? 0 : 1));
  const keys = Buffer.allocUnsafe(stale.length * KEY_SIZE);
  stale.forEach(([f, s], i) => writeKey(keys, i * KEY_SIZE, f.addr, f.port, f.proto, s));

  return {
    update: encode(added),
    remove: { keys, count: stale.length },
    desired: () => entriesOf(allFrontends(next, cfg)),
  };
}
