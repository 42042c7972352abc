import type { Endpoint, Service } from './types.js';

// Change detection shared by every backend's partial sync: a service is re-rendered when
// kube-proxy's ServiceChangeTracker or EndpointsChangeTracker would report it changed.

/** Same processed service ports, type, cluster IP, affinity and traffic policies. */
export function sameService(a: Service, b: Service): boolean {
  if (a === b) return true;
  if (
    a.type !== b.type ||
    a.clusterIP !== b.clusterIP ||
    a.sessionAffinity !== b.sessionAffinity ||
    a.stickyMaxAgeSeconds !== b.stickyMaxAgeSeconds ||
    a.externalTrafficPolicy !== b.externalTrafficPolicy ||
    a.internalTrafficPolicy !== b.internalTrafficPolicy ||
    a.ports.length !== b.ports.length
  )
    return false;
  return a.ports.every((p, i) => {
    const q = b.ports[i]!;
    return (
      p.name === q.name &&
      p.protocol === q.protocol &&
      p.port === q.port &&
      p.targetPort === q.targetPort &&
      (p.nodePort ?? 0) === (q.nodePort ?? 0)
    );
  });
}

/** Same endpoints (IP and locality) in any order. */
export function sameEndpoints(a: readonly Endpoint[] | undefined, b: readonly Endpoint[] | undefined): boolean {
  if (a === b) return true;
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  // Fast path: the same endpoints in the same order (the usual case).
  let i = 0;
  while (i < x.length && x[i]!.ip === y[i]!.ip && x[i]!.local === y[i]!.local) i++;
  if (i === x.length) return true;
  const key = (e: Endpoint): string => `${e.ip}|${e.local}`;
  const xs = x.map(key).sort();
  const ys = y.map(key).sort();
  return xs.every((k, j) => k === ys[j]);
}
