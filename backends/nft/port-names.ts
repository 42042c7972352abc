// Names and element texts of one service port, cached: at 10,000 services a render needs
// ~40,000 sha256-based names, and reusing the same string objects keeps hashing them cheap.

import type { Endpoint, Service, ServicePort } from '../../src/model/types.js';
import { endpointNames, protoLower, serviceChainNames, servicePortNameString } from './names.js';
import type { EndpointNames, ServicePortChainNames } from './names.js';

/**
 * Names and element texts of one service port. Cached per ServicePort object (re-checked
 * against the fields they derive from, so a mutated object is recomputed): at 10,000
 * services a render needs ~40,000 sha256-based names, and reusing the same string objects
 * also keeps hashing them for Set/Map lookups cheap.
 */
export interface PortNames {
  ns: string;
  name: string;
  clusterIP: string;
  portName: string;
  protocol: ServicePort['protocol'];
  port: number;
  targetPort: number;
  nodePort: number;
  chains: ServicePortChainNames;
  /** ServicePortName.String(), for element comments. */
  nameString: string;
  /** "clusterIP . proto . port" */
  svcKey: string;
  /** "proto . nodePort" */
  nodePortKey: string;
  gotoService: string;
  gotoExternal: string;
  /** Endpoint names by endpoint IP. */
  eps: Map<string, EndpointNames>;
}
const portCache = new WeakMap<ServicePort, PortNames>();
/**
 * The same records by content ("ns/name/proto/portName"), for states that are new but equal
 * objects (a controller rebuilding its state, a benchmark cloning it): one string lookup per
 * service port instead of a new record and a name lookup per endpoint. Bounded like names.ts.
 */
const portByName = new Map<string, PortNames>();
const PORT_BY_NAME_MAX = 250_000;

const samePort = (c: PortNames, svc: Service, port: ServicePort, nodePort: number): boolean =>
  c.ns === svc.namespace &&
  c.name === svc.name &&
  c.clusterIP === svc.clusterIP &&
  c.portName === port.name &&
  c.protocol === port.protocol &&
  c.port === port.port &&
  c.targetPort === port.targetPort &&
  c.nodePort === nodePort;

export function portNames(svc: Service, port: ServicePort): PortNames {
  const nodePort = port.nodePort ?? 0;
  const c = portCache.get(port);
  if (c !== undefined && samePort(c, svc, port, nodePort)) return c;
  const protocol = protoLower(port.protocol);
  const key = `${svc.namespace}/${svc.name}/${protocol}/${port.name}`;
  const known = portByName.get(key);
  // (Not added to portCache: a WeakMap entry per new object costs the GC more than this lookup.)
  if (known !== undefined && samePort(known, svc, port, nodePort)) return known;
  const chains = serviceChainNames(svc, port);
  const fresh: PortNames = {
    ns: svc.namespace,
    name: svc.name,
    clusterIP: svc.clusterIP,
    portName: port.name,
    protocol: port.protocol,
    port: port.port,
    targetPort: port.targetPort,
    nodePort,
    chains,
    nameString: servicePortNameString(svc, port),
    svcKey: `${svc.clusterIP} . ${protocol} . ${port.port}`,
    nodePortKey: `${protocol} . ${nodePort}`,
    gotoService: `goto ${chains.service}`,
    gotoExternal: `goto ${chains.external}`,
    eps: new Map(),
  };
  portCache.set(port, fresh);
  if (portByName.size >= PORT_BY_NAME_MAX) portByName.clear();
  portByName.set(key, fresh);
  return fresh;
}

export function endpointNamesOf(pn: PortNames, svc: Service, port: ServicePort, eps: readonly Endpoint[]): EndpointNames[] {
  if (pn.eps.size > 64 + 4 * eps.length) pn.eps.clear(); // endpoint churn: keep it bounded
  const out = new Array<EndpointNames>(eps.length);
  for (let i = 0; i < eps.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    let n = pn.eps.get(ip);
    if (n === undefined) {
      n = endpointNames(svc, port, ip, port.targetPort);
      pn.eps.set(ip, n);
    }
    out[i] = n;
  }
  return out;
}
