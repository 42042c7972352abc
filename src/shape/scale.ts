import type { ShapeService } from './read.js';

// Scaling a shape to a service count: service i of n is the sample's service ⌊i · S / n⌋, so a
// small representative sample (S services) is repeated evenly to reach n, or thinned evenly to n
// below S, keeping the sample's proportions (of endpoint counts, protocols, affinity, policies)
// as closely as whole services allow. Deterministic: the same file and n give the same services.
export function scaleShape(shape: { services: readonly ShapeService[] }, n: number): ShapeService[] {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`service count is ${n}: it must be a whole number ≥ 1`);
  const s = shape.services.length;
  if (s === 0) throw new RangeError('the shape has no services');
  return Array.from({ length: n }, (_, i) => shape.services[Math.floor((i * s) / n)]!);
}

/** Counts for people and run.json (nothing else from the file is kept). */
export function shapeSummary(services: readonly ShapeService[]): {
  services: number;
  endpoints: number;
  ports: number;
  udpPorts: number;
  nodePortServices: number;
  clientIPAffinity: number;
  externalLocal: number;
  internalLocal: number;
  withoutEndpoints: number;
  maxEndpoints: number;
} {
  let endpoints = 0;
  let ports = 0;
  let udpPorts = 0;
  let maxEndpoints = 0;
  const count = (f: (s: ShapeService) => boolean) => services.filter(f).length;
  for (const s of services) {
    endpoints += s.endpoints;
    ports += s.ports.length;
    udpPorts += s.ports.filter((p) => p.protocol === 'UDP').length;
    maxEndpoints = Math.max(maxEndpoints, s.endpoints);
  }
  return {
    services: services.length,
    endpoints,
    ports,
    udpPorts,
    nodePortServices: count((s) => s.type === 'NodePort'),
    clientIPAffinity: count((s) => s.sessionAffinity === 'ClientIP'),
    externalLocal: count((s) => s.externalTrafficPolicy === 'Local'),
    internalLocal: count((s) => s.internalTrafficPolicy === 'Local'),
    withoutEndpoints: count((s) => s.endpoints === 0),
    maxEndpoints,
  };
}
