// Writes a synthetic, anonymised `kubectl get services,endpointslices -A -o json` export to stdout,
// for --shape: the example files under scenarios/ and the streaming test on a large file.
// Usage: node dist/scripts/gen-shape.js --services N [--endpoints E] [--udp-every K] [--nodeport-every K]
//   N services in namespaces ns-000…, each with E ready endpoints split over slices of at most 100
//   (the EndpointSlice controller's default --max-endpoints-per-slice); every K-th service also
//   has a UDP port (DNS-like), every K-th is of type NodePort. Written as it goes (a 200 MB file
//   never sits in memory), indented as kubectl indents.
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    services: { type: 'string' },
    endpoints: { type: 'string', default: '1' },
    'udp-every': { type: 'string', default: '0' },
    'nodeport-every': { type: 'string', default: '0' },
  },
});
const services = Number(values.services);
const endpoints = Number(values.endpoints);
const udpEvery = Number(values['udp-every']);
const nodePortEvery = Number(values['nodeport-every']);
if (!Number.isSafeInteger(services) || services < 1 || !Number.isSafeInteger(endpoints) || endpoints < 0) {
  process.stderr.write('usage: gen-shape --services N [--endpoints E] [--udp-every K] [--nodeport-every K]\n');
  process.exit(2);
}

const PER_SLICE = 100;
const ip = (k: number) => `10.${64 + ((k >>> 16) & 63)}.${(k >>> 8) & 255}.${k & 255}`;
const indent = (o: unknown) =>
  JSON.stringify(o, null, 4)
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');

let first = true;
let buffer = '';
async function item(o: unknown): Promise<void> {
  buffer += `${first ? '' : ',\n'}${indent(o)}`;
  first = false;
  if (buffer.length > 1 << 20) await flush();
}
async function flush(): Promise<void> {
  if (!process.stdout.write(buffer)) await once(process.stdout, 'drain');
  buffer = '';
}

let podIndex = 0;
process.stdout.write('{\n    "apiVersion": "v1",\n    "items": [\n');
for (let i = 0; i < services; i++) {
  const ns = `ns-${String(i % 97).padStart(3, '0')}`;
  const name = `svc-${String(i).padStart(6, '0')}`;
  const nodePort = nodePortEvery > 0 && i % nodePortEvery === 0;
  const udp = udpEvery > 0 && i % udpEvery === 0;
  const ports = [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, ...(nodePort ? { nodePort: 30000 + (i % 2768) } : {}) }];
  if (udp) ports.push({ name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 });
  await item({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}` },
    spec: {
      clusterIP: `10.96.${(i >>> 8) & 255}.${i & 255}`,
      internalTrafficPolicy: 'Cluster',
      ports,
      sessionAffinity: 'None',
      type: nodePort ? 'NodePort' : 'ClusterIP',
      ...(nodePort ? { externalTrafficPolicy: 'Cluster' } : {}),
    },
    status: { loadBalancer: {} },
  });
}
for (let i = 0; i < services; i++) {
  const ns = `ns-${String(i % 97).padStart(3, '0')}`;
  const name = `svc-${String(i).padStart(6, '0')}`;
  for (let from = 0, s = 0; from < endpoints || (endpoints === 0 && s === 0); from += PER_SLICE, s++) {
    const count = Math.min(PER_SLICE, endpoints - from);
    await item({
      addressType: 'IPv4',
      apiVersion: 'discovery.k8s.io/v1',
      endpoints: Array.from({ length: count }, () => ({
        addresses: [ip(podIndex++)],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: `node-${podIndex % 50}`,
        targetRef: { kind: 'Pod', name: `pod-${podIndex}`, namespace: ns },
      })),
      kind: 'EndpointSlice',
      metadata: { labels: { 'kubernetes.io/service-name': name }, name: `${name}-${s}`, namespace: ns },
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    if (endpoints === 0) break;
  }
}
await flush();
process.stdout.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
