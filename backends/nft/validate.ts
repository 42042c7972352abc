// What the renderer relies on in its inputs: names and addresses go verbatim into chain names
// and the transaction text. Endpoint order is kube-proxy's.

import { BenchError } from '../../src/errors.js';
import { parseCidr, parseIp } from '../../src/model/ipv4.js';
import type { ClusterState, Endpoint, ProxyConfig, Service, ServicePort } from '../../src/model/types.js';
import { serviceKey } from '../../src/model/types.js';

/**
 * kube-proxy's endpoint order: sorted by the endpoint's String(), "IP:port" (pkg/proxy
 * endpointslicecache.go). The port is the service port's targetPort, the same for every endpoint
 * of it, so the order is that of "IP:" — "10.0.0.10:80" before "10.0.0.1:80" (':' sorts after
 * the digits), unlike an order by IP alone.
 */
export function sortedEndpoints(eps: readonly Endpoint[]): readonly Endpoint[] {
  const key = (e: Endpoint): string => `${e.ip}:`;
  for (let i = 1; i < eps.length; i++) {
    if (key(eps[i - 1] as Endpoint) > key(eps[i] as Endpoint)) {
      return [...eps].sort((a, b) => {
        const ka = key(a);
        const kb = key(b);
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
    }
  }
  return eps;
}

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const PORT_NAME = /^(?:[a-z0-9](?:[-a-z0-9]{0,13}[a-z0-9])?)?$/;
const isPort = (n: unknown): boolean => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;

const isIPv4 = (s: string): boolean => parseIp(s) !== undefined;
const isIPv4Cidr = (s: string): boolean => parseCidr(s) !== undefined;

/**
 * Names and addresses go verbatim into chain names and the transaction text: anything but
 * DNS labels, IPv4 addresses and port numbers could break (or inject into) the `nft -f`
 * input, and duplicates would make two services share chains or map keys. So they are
 * checked here even though config validation should have caught them.
 */
/** Checks what the renderer relies on and returns each service's endpoints. Services in
 * `checked` (unchanged since a render that validated them) skip the format checks but still
 * count for uniqueness against the others. */
export function validate(
  state: ClusterState,
  cfg: ProxyConfig,
  checked: ReadonlySet<string> = new Set(),
  keyOf: readonly string[] = state.services.map(serviceKey),
): (Endpoint[] | undefined)[] {
  const fail = (what: string): never => {
    throw new BenchError(`nft render: ${what}`, {
      hint: 'services need unique DNS-label names, unique IPv4 cluster IPs, unique node ports, ports 1-65535 and IPv4 endpoints (the nft backend renders table ip kube-proxy)',
    });
  };
  if (cfg.podCidr !== '' && !isIPv4Cidr(cfg.podCidr)) fail(`pod CIDR ${JSON.stringify(cfg.podCidr)} is not an IPv4 CIDR`);
  const keys = new Set<string>();
  const clusterIPs = new Set<string>();
  // protocol × node port as one number (TCP 0–65535, UDP 65536–131071)
  const nodePorts = new Set<number>();
  const endpoints: (Endpoint[] | undefined)[] = [];
  for (let s = 0; s < state.services.length; s++) {
    const svc = state.services[s] as Service;
    const key = keyOf[s] as string;
    const fresh = !checked.has(key);
    if (fresh && (!DNS_LABEL.test(svc.namespace) || !DNS_LABEL.test(svc.name)))
      fail(`service ${JSON.stringify(key)}: namespace and name must be DNS labels`);
    if (keys.has(key)) fail(`service ${key} is listed twice`);
    keys.add(key);
    if (fresh && !isIPv4(svc.clusterIP)) fail(`service ${key}: clusterIP ${JSON.stringify(svc.clusterIP)} is not an IPv4 address`);
    if (clusterIPs.has(svc.clusterIP)) fail(`service ${key}: clusterIP ${svc.clusterIP} is used by another service`);
    clusterIPs.add(svc.clusterIP);
    if (fresh && (!Number.isInteger(svc.stickyMaxAgeSeconds) || svc.stickyMaxAgeSeconds < 1))
      fail(`service ${key}: stickyMaxAgeSeconds must be a positive integer`);
    const ports = svc.ports;
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i] as ServicePort;
      if (fresh) checkPort(key, ports, i, fail);
      if (p.nodePort !== undefined && p.nodePort !== 0) {
        const np = (p.protocol === 'TCP' ? 0 : 65536) + p.nodePort;
        if (nodePorts.has(np)) fail(`service ${key}: node port ${p.protocol}/${p.nodePort} is used twice`);
        nodePorts.add(np);
      }
    }
    const listed = state.endpoints[key];
    endpoints.push(listed);
    if (fresh) checkEndpoints(key, listed ?? [], fail);
  }
  return endpoints;
}

function checkPort(key: string, ports: readonly ServicePort[], i: number, fail: (what: string) => never): void {
  const p = ports[i] as ServicePort;
  if (!PORT_NAME.test(p.name)) fail(`service ${key}: port name ${JSON.stringify(p.name)} is not a valid port name`);
  if (p.protocol !== 'TCP' && p.protocol !== 'UDP') fail(`service ${key}: protocol ${JSON.stringify(p.protocol)}`);
  if (!isPort(p.port) || !isPort(p.targetPort) || (p.nodePort !== undefined && p.nodePort !== 0 && !isPort(p.nodePort)))
    fail(`service ${key}: port numbers must be 1-65535`);
  for (let j = 0; j < i; j++) {
    const q = ports[j] as ServicePort;
    if (q.name === p.name) fail(`service ${key}: two ports are named ${JSON.stringify(p.name)}`);
    if (q.protocol === p.protocol && q.port === p.port) fail(`service ${key}: two ports are ${p.protocol} ${p.port}`);
  }
}

function checkEndpoints(key: string, eps: readonly Endpoint[], fail: (what: string) => never): void {
  for (let i = 0; i < eps.length; i++) {
    const ip = (eps[i] as Endpoint).ip;
    if (!isIPv4(ip)) fail(`service ${key}: endpoint ${JSON.stringify(ip)} is not an IPv4 address`);
    if (eps.length <= 16) {
      for (let j = 0; j < i; j++) if ((eps[j] as Endpoint).ip === ip) fail(`service ${key}: endpoint ${ip} is listed twice`);
    }
  }
  if (eps.length > 16 && new Set(eps.map((e) => e.ip)).size !== eps.length) fail(`service ${key}: an endpoint is listed twice`);
}
