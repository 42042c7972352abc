import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readShape } from './read.js';
import { tempDirs } from '../../test/temp-dirs.js';

const dir = tempDirs('svcbench-shape-')();
let n = 0;
const file = (content: string): string => {
  const f = join(dir, `f${n++}.json`);
  writeFileSync(f, content);
  return f;
};
const svc = (ns: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: ns },
  spec,
});
const slice = (ns: string, service: string | undefined, ready: (boolean | undefined)[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-abcde`, namespace: ns, labels: service === undefined ? {} : { 'kubernetes.io/service-name': service } },
  endpoints: ready.map((r, i) => ({ addresses: [`10.1.0.${i + 1}`], conditions: r === undefined ? {} : { ready: r } })),
});
const list = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } }, null, 2);

describe('readShape', () => {
  it('extracts counts per service and joins slices by the service-name label', async () => {
    const f = file(
      list([
        svc('a', 'web', {
          type: 'ClusterIP',
          clusterIP: '10.96.0.10',
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        }),
        svc('b', 'web', {
          type: 'NodePort',
          ports: [{ port: 80, nodePort: 30080 }],
          sessionAffinity: 'ClientIP',
          externalTrafficPolicy: 'Local',
        }),
        svc('b', 'lb', { type: 'LoadBalancer', ports: [{ port: 443 }], internalTrafficPolicy: 'Local' }),
        svc('b', 'headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
        svc('b', 'ext', { type: 'ExternalName', externalName: 'example.org' }),
        slice('a', 'web', [true, undefined, false]),
        slice('a', 'web', [true]),
        slice('b', 'web', [true, true]),
        slice('b', 'gone', [true]),
        slice('b', undefined, [true]),
        { kind: 'ConfigMap', metadata: { name: 'x' } },
      ]),
    );
    const shape = await readShape(f);
    expect(shape.services).toEqual([
      {
        type: 'ClusterIP',
        ports: [
          { protocol: 'TCP', nodePort: false },
          { protocol: 'UDP', nodePort: false },
        ],
        endpoints: 3,
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Cluster',
      },
      {
        type: 'NodePort',
        ports: [{ protocol: 'TCP', nodePort: true }],
        endpoints: 2,
        sessionAffinity: 'ClientIP',
        externalTrafficPolicy: 'Local',
        internalTrafficPolicy: 'Cluster',
      },
      {
        type: 'NodePort',
        ports: [{ protocol: 'TCP', nodePort: true }],
        endpoints: 0,
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
        internalTrafficPolicy: 'Local',
      },
    ]);
    expect(shape.skipped).toEqual({ headless: 1, externalName: 1, otherKinds: 1 });
    expect(shape.slices).toBe(5);
    expect(shape.orphanSlices).toBe(1);
    // Nothing named in the file comes back.
    expect(JSON.stringify(shape)).not.toMatch(/web|gone|lb|10\.96|10\.1\.0/);
  });

  it('handles slices before their service and null endpoints', async () => {
    const shape = await readShape(
      file(list([slice('a', 's', [true]), { ...slice('a', 's', []), endpoints: null }, svc('a', 's', { ports: [{ port: 1 }] })])),
    );
    expect(shape.services.map((s) => s.endpoints)).toEqual([1]);
  });

  it.each([
    ['a missing file', undefined, /^--shape: cannot read .*nope\.json: ENOENT/],
    ['an empty file', '', /--shape: .* is empty, not JSON/],
    ['text that is not JSON', 'hello', /--shape: .*: at \(top level\): not valid JSON: /],
    [
      'truncated JSON',
      list([svc('a', 'b', { ports: [{ port: 1 }] })]).slice(0, 60),
      /--shape: .*: at items\[0\][^:]*: not valid JSON: expected /,
    ],
    ['a top-level array', '[1, 2]', /at \(top level\): expected an object \(a kubectl List\), found an array/],
    ['a top-level number', '42', /at \(top level\): expected an object \(a kubectl List\)/],
    ['another kind', JSON.stringify({ kind: 'Service', items: [] }), /at kind: expected "List" \(found "Service"\)/],
    ['no items', JSON.stringify({ kind: 'List' }), /at items: expected an array of Services and EndpointSlices \(no items found\)/],
    ['items not an array', JSON.stringify({ kind: 'List', items: { a: 1 } }), /at items: expected an array of Services and EndpointSlices/],
    [
      'an item that is not an object',
      list([svc('a', 'b', { ports: [{ port: 1 }] }), 'x']),
      /at items\[1\]: expected an object \(a Service or EndpointSlice\)/,
    ],
    ['an item that is an array', list([[1]]), /at items\[0\]: expected an object \(a Service or EndpointSlice\)/],
    ['an item without kind', list([{ metadata: {} }]), /at items\[0\]\.kind: expected a kind \(string\)/],
    [
      'a port that is not a number',
      list([svc('a', 'b', { ports: [{ port: 80 }, { port: '80' }] })]),
      /at items\[0\]\.spec\.ports\[1\]\.port: expected a port number/,
    ],
    [
      'a bad protocol',
      list([svc('a', 'b', { ports: [{ port: 80, protocol: 'ICMP' }] })]),
      /at items\[0\]\.spec\.ports\[0\]\.protocol: expected TCP, UDP or SCTP/,
    ],
    [
      'a service without namespace',
      list([{ kind: 'Service', metadata: { name: 'x' }, spec: {} }]),
      /at items\[0\]\.metadata\.namespace: expected a namespace/,
    ],
    [
      'a bad endpoint condition',
      list([
        svc('a', 'b', { ports: [{ port: 1 }] }),
        { ...slice('a', 'b', [true]), endpoints: [{ addresses: ['1.2.3.4'], conditions: { ready: 'yes' } }] },
      ]),
      /at items\[1\]\.endpoints\[0\]\.conditions\.ready: expected true or false/,
    ],
    [
      'no services',
      list([slice('a', 'b', [true]), svc('a', 'h', { clusterIP: 'None' })]),
      /--shape: .* has no services kube-proxy would program \(1 headless, 0 ExternalName, 1 EndpointSlices\)/,
    ],
    ['an empty list', list([]), /has no services kube-proxy would program/],
  ])('%s exits 2 naming --shape and where', async (_what, content, message) => {
    const f = content === undefined ? join(dir, 'nope.json') : file(content);
    await expect(readShape(f)).rejects.toThrow(message);
    await expect(readShape(f)).rejects.toMatchObject({ name: 'UsageError' });
  });

  it('rejects a directory', async () => {
    await expect(readShape(dir)).rejects.toThrow(/--shape: cannot read .*: not a regular file/);
  });
});
