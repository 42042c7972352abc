import { describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/model/types.js';
import { cfg, largeState, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import { describeKey, describeValue, intToIp, ipToInt, KEY_SIZE, readEntry, writeKey, writeValue } from './layout.js';
import { changedServices, encode, encodeServices, frontendsOf, renderFull, renderPartial, type MapBatch } from './render.js';

// States come from src/model/test-support/states.ts (kube-proxy's test conventions): node IP 192.168.0.2.

/** A batch as people read it, in batch order. */
const lines = (b: MapBatch): string[] =>
  Array.from({ length: b.count }, (_, i) => {
    const e = readEntry(b.keys, b.values, i);
    return `${describeKey(e)} → ${describeValue(e)}`;
  });

const keyLines = (keys: Buffer, n: number): string[] =>
  Array.from({ length: n }, (_, i) => describeKey(readEntry(keys, Buffer.alloc(n * 12), i)));

describe('svc_map layout (mirrors struct svc_key / svc_val in bpf/maps.h)', () => {
  it('puts addresses and ports in network order, slot/count/affinity in host (little-endian) order', () => {
    const k = Buffer.alloc(KEY_SIZE);
    writeKey(k, 0, ipToInt('10.96.0.1'), 443, 6, 2);
    expect(k.toString('hex')).toBe('0a600001' + '01bb' + '0200' + '06' + '000000');
    const v = Buffer.alloc(12);
    writeValue(v, 0, ipToInt('10.244.0.7'), 8443, 3, 10800);
    expect(v.toString('hex')).toBe('0af40007' + '20fb' + '0300' + '302a0000');
    expect(readEntry(k, v, 0)).toEqual({
      addr: '10.96.0.1',
      port: 443,
      proto: 6,
      slot: 2,
      value: { addr: '10.244.0.7', port: 8443, count: 3, affinity: 10800 },
    });
  });

  it('parses and prints IPv4 addresses', () => {
    for (const ip of ['0.0.0.0', '10.96.0.10', '255.255.255.255', '198.18.0.1']) expect(intToIp(ipToInt(ip))).toBe(ip);
  });
});

describe('render', () => {
  it('writes every frontend: cluster IP per port, node IP per node port, endpoint slots before their head', () => {
    expect(lines(renderFull(smallState, cfg).update)).toEqual([
      '172.30.0.41:80/tcp slot 1 → 10.180.0.1:80',
      '172.30.0.41:80/tcp slot 2 → 10.180.0.2:80',
      '172.30.0.41:80/tcp slot 0 → 2 endpoints',
      '172.30.0.42:80/tcp slot 1 → 10.180.0.3:8080',
      '172.30.0.42:80/tcp slot 2 → 10.180.0.4:8080',
      '172.30.0.42:80/tcp slot 0 → 2 endpoints, ClientIP affinity 10800 s',
      // externalTrafficPolicy: Local keeps the node-local endpoint only at the node port.
      '192.168.0.2:30002/tcp slot 1 → 10.180.0.3:8080',
      '192.168.0.2:30002/tcp slot 0 → 1 endpoints, ClientIP affinity 10800 s',
      '172.30.0.43:80/tcp slot 1 → 10.180.0.5:80',
      '172.30.0.43:80/tcp slot 0 → 1 endpoints',
      '192.168.0.2:30003/tcp slot 1 → 10.180.0.5:80',
      '192.168.0.2:30003/tcp slot 0 → 1 endpoints',
      '172.30.0.44:53/udp slot 1 → 10.180.0.6:5353',
      '172.30.0.44:53/udp slot 2 → 10.180.0.7:5353',
      '172.30.0.44:53/udp slot 0 → 2 endpoints',
      // No endpoints: a head with count 0, which connect4 refuses (kube-proxy's REJECT).
      '172.30.0.45:80/tcp slot 0 → 0 endpoints',
    ]);
  });

  it('the direct encoder writes the same bytes as encoding the frontends', () => {
    for (const state of [smallState, smallStateNext, largeState(500)]) {
      const direct = encodeServices(state.services, (s) => state.endpoints[`${s.namespace}/${s.name}`], cfg);
      const viaFrontends = encode(state.services.flatMap((s) => frontendsOf(s, state.endpoints[`${s.namespace}/${s.name}`], cfg)));
      expect(direct.count).toBe(viaFrontends.count);
      expect(direct.keys.equals(viaFrontends.keys)).toBe(true);
      expect(direct.values.equals(viaFrontends.values)).toBe(true);
    }
  });

  it('a partial sync rewrites only changed services and deletes their stale slots, heads first', () => {
    const r = renderPartial(smallState, smallStateNext, cfg);
    expect(lines(r.update)).toEqual([
      '172.30.0.41:80/tcp slot 1 → 10.180.0.1:80',
      '172.30.0.41:80/tcp slot 2 → 10.180.0.2:80',
      '172.30.0.41:80/tcp slot 3 → 10.180.0.10:80',
      '172.30.0.41:80/tcp slot 0 → 3 endpoints',
      '172.30.0.42:80/tcp slot 1 → 10.180.0.4:8080',
      '172.30.0.42:80/tcp slot 0 → 1 endpoints, ClientIP affinity 10800 s',
      '192.168.0.2:30002/tcp slot 0 → 0 endpoints, ClientIP affinity 10800 s',
      '172.30.0.43:80/tcp slot 0 → 0 endpoints',
      '192.168.0.2:30003/tcp slot 0 → 0 endpoints',
      '172.30.0.46:8080/tcp slot 1 → 10.180.0.8:80',
      '172.30.0.46:8080/tcp slot 0 → 1 endpoints',
    ]);
    expect(keyLines(r.remove.keys, r.remove.count)).toEqual([
      '172.30.0.44:53/udp slot 0',
      '172.30.0.42:80/tcp slot 2',
      '192.168.0.2:30002/tcp slot 1',
      '172.30.0.43:80/tcp slot 1',
      '192.168.0.2:30003/tcp slot 1',
      '172.30.0.44:53/udp slot 1',
      '172.30.0.44:53/udp slot 2',
    ]);
    // What read-back compares with: the same as a full sync of the next state.
    expect([...r.desired().keys()].sort()).toEqual([...renderFull(smallStateNext, cfg).desired().keys()].sort());
  });

  it('finds the same changes in fresh copies as in states sharing objects, and none between equal states', () => {
    const shared = changedServices(smallState, smallStateNext);
    const fresh = changedServices(structuredClone(smallState), structuredClone(smallStateNext));
    const names = (x: { added: { name: string }[]; dropped: { name: string }[] }) => ({
      added: x.added.map((s) => s.name).sort(),
      dropped: x.dropped.map((s) => s.name).sort(),
    });
    expect(names(shared)).toEqual({ added: ['svc1', 'svc2', 'svc3', 'svc6'], dropped: ['svc1', 'svc2', 'svc3', 'svc4'] });
    expect(names(fresh)).toEqual(names(shared));
    const none = renderPartial(smallState, structuredClone(smallState), cfg);
    expect(none.update.count + none.remove.count).toBe(0);
  });

  it('handles reordered services and one service added among 10,000 with four entries', () => {
    const big = largeState(10_000);
    const extra: ClusterState = {
      services: [...big.services.slice(0, 5000), largeState(10_001).services[10_000]!, ...big.services.slice(5000)].reverse(),
      endpoints: { ...big.endpoints, 'ns0/svc10000': [{ ip: '10.9.9.9', local: true }] },
    };
    const r = renderPartial(big, extra, cfg);
    // svc10000 is a NodePort service (every tenth): cluster IP head + slot, node port head + slot.
    expect(lines(r.update)).toHaveLength(4);
    expect(r.remove.count).toBe(0);
    const back = renderPartial(extra, big, cfg);
    expect(back.update.count).toBe(0);
    expect(
      keyLines(back.remove.keys, back.remove.count)
        .slice(0, 2)
        .every((k) => k.endsWith('slot 0')),
    ).toBe(true);
  });
});
