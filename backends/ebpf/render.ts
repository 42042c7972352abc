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
  endpoints: { addr: number; port: number }[];
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

/** A service's frontends: its cluster IP per port and, for NodePort services, every node IP at the
 * node port. externalTrafficPolicy: Local keeps only node-local endpoints at the node port
 * (kube-proxy's and Cilium's rule; every endpoint of a single-node sandbox is local). */
export function frontendsOf(s: Service, endpoints: readonly Endpoint[] | undefined, cfg: ProxyConfig): Frontend[] {
  const eps = endpoints ?? [];
  const out: Frontend[] = [];
  const affinity = s.sessionAffinity === 'ClientIP' ? s.stickyMaxAgeSeconds : 0;
  for (const p of s.ports) {
    const proto = PROTO[p.protocol];
    const all = eps.map((e) => ({ addr: ipToInt(e.ip), port: p.targetPort }));
    out.push({ addr: ipToInt(s.clusterIP), port: p.port, proto, affinity, endpoints: all });
    if (s.type === 'NodePort' && p.nodePort !== undefined) {
      const external =
        s.externalTrafficPolicy === 'Local' ? eps.filter((e) => e.local).map((e) => ({ addr: ipToInt(e.ip), port: p.targetPort })) : all;
      for (const ip of cfg.nodeIPs) out.push({ addr: ipToInt(ip), port: p.nodePort, proto, affinity, endpoints: external });
    }
  }
  return out;
}

function encode(frontends: readonly Frontend[]): MapBatch {
  let count = 0;
  for (const f of frontends) count += f.endpoints.length + 1;
  const keys = Buffer.allocUnsafe(count * KEY_SIZE);
  const values = Buffer.allocUnsafe(count * VALUE_SIZE);
  let i = 0;
  for (const f of frontends) {
    for (let s = 0; s < f.endpoints.length; s++, i++) {
      const e = f.endpoints[s]!;
      writeKey(keys, i * KEY_SIZE, f.addr, f.port, f.proto, s + 1);
      writeValue(values, i * VALUE_SIZE, e.addr, e.port, 0, 0);
    }
    writeKey(keys, i * KEY_SIZE, f.addr, f.port, f.proto, 0);
    writeValue(values, i * VALUE_SIZE, 0, 0, f.endpoints.length, f.affinity);
    i++;
  }
  return { keys, values, count };
}

function entriesOf(frontends: readonly Frontend[]): Map<string, SvcEntry> {
  const out = new Map<string, SvcEntry>();
  for (const f of frontends) {
    const base = { addr: intToIp(f.addr), port: f.port, proto: f.proto };
    const head: SvcEntry = { ...base, slot: 0, value: { addr: '0.0.0.0', port: 0, count: f.endpoints.length, affinity: f.affinity } };
    out.set(describeKey(head), head);
    f.endpoints.forEach((e, s) => {
      const entry: SvcEntry = { ...base, slot: s + 1, value: { addr: intToIp(e.addr), port: e.port, count: 0, affinity: 0 } };
      out.set(describeKey(entry), entry);
    });
  }
  return out;
}

const allFrontends = (state: ClusterState, cfg: ProxyConfig): Frontend[] =>
  state.services.flatMap((s) => frontendsOf(s, state.endpoints[serviceKey(s)], cfg));

export function renderFull(next: ClusterState, cfg: ProxyConfig): EbpfPayload {
  return {
    update: encode(allFrontends(next, cfg)),
    remove: { keys: Buffer.alloc(0), count: 0 },
    desired: () => entriesOf(allFrontends(next, cfg)),
  };
}

export function renderPartial(prev: ClusterState, next: ClusterState, cfg: ProxyConfig): EbpfPayload {
  const before = new Map(prev.services.map((s) => [serviceKey(s), s]));
  const added: Frontend[] = [];
  const dropped: Frontend[] = [];
  for (const s of next.services) {
    const key = serviceKey(s);
    const p = before.get(key);
    before.delete(key);
    if (p && sameService(p, s) && sameEndpoints(prev.endpoints[key], next.endpoints[key])) continue;
    added.push(...frontendsOf(s, next.endpoints[key], cfg));
    if (p) dropped.push(...frontendsOf(p, prev.endpoints[key], cfg));
  }
  for (const [key, p] of before) dropped.push(...frontendsOf(p, prev.endpoints[key], cfg));

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
