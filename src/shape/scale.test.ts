import { describe, expect, it } from 'vitest';
import type { ShapeService } from './read.js';
import { scaleShape, shapeSummary } from './scale.js';

const s = (endpoints: number, extra: Partial<ShapeService> = {}): ShapeService => ({
  type: 'ClusterIP',
  ports: [{ protocol: 'TCP', nodePort: false }],
  endpoints,
  sessionAffinity: 'None',
  externalTrafficPolicy: 'Cluster',
  internalTrafficPolicy: 'Cluster',
  ...extra,
});

describe('scaleShape', () => {
  const sample = { services: [s(1), s(2), s(3), s(4)] };
  it('repeats a sample evenly up to n', () => {
    expect(scaleShape(sample, 8).map((x) => x.endpoints)).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    expect(scaleShape(sample, 6).map((x) => x.endpoints)).toEqual([1, 1, 2, 3, 3, 4]);
  });
  it('thins it evenly below its size, and is the sample at its size', () => {
    expect(scaleShape(sample, 2).map((x) => x.endpoints)).toEqual([1, 3]);
    expect(scaleShape(sample, 4).map((x) => x.endpoints)).toEqual([1, 2, 3, 4]);
  });
  it('rejects a bad count or an empty shape', () => {
    expect(() => scaleShape(sample, 0)).toThrow(/service count/);
    expect(() => scaleShape({ services: [] }, 3)).toThrow(/no services/);
  });
});

describe('shapeSummary', () => {
  it('counts', () => {
    expect(
      shapeSummary([
        s(1),
        s(0, {
          type: 'NodePort',
          ports: [
            { protocol: 'UDP', nodePort: true },
            { protocol: 'TCP', nodePort: true },
          ],
          sessionAffinity: 'ClientIP',
        }),
        s(7, { externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local' }),
      ]),
    ).toEqual({
      services: 3,
      endpoints: 8,
      ports: 4,
      udpPorts: 1,
      nodePortServices: 1,
      clientIPAffinity: 1,
      externalLocal: 1,
      internalLocal: 1,
      withoutEndpoints: 1,
      maxEndpoints: 7,
    });
  });
});
