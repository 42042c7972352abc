import hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { LatencyRecorder, nodeClientArgv, roundRobin } from './client-kit.js';

describe('LatencyRecorder', () => {
  it('summarises microseconds and encodes a histogram that decodes to the same data', () => {
    const l = new LatencyRecorder();
    for (let i = 1; i <= 1000; i++) l.record(i + 0.4); // fractions round to the µs
    const s = l.summary();
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.p50).toBe(500);
    expect(s.p99).toBe(990);
    expect(s.max).toBe(1000);
    const back = hdr.decodeFromCompressedBase64(s.histogram);
    expect(back.totalCount).toBe(1000);
    expect(back.getValueAtPercentile(50)).toBe(500);
  });

  it('records 0 µs as 1 µs, the resolution', () => {
    const l = new LatencyRecorder();
    l.record(0);
    expect(l.summary().min).toBe(1);
  });

  it('adds the omitted samples when a response exceeds the expected interval', () => {
    const l = new LatencyRecorder();
    l.recordCorrected(10_000, 1_000); // 10 ms stall with a request due every 1 ms
    const s = l.summary();
    expect(s.count).toBe(10); // 10000, 9000, …, 1000
    expect(s.max).toBe(10_000);
    expect(s.min).toBe(1_000);
  });

  it('is all zeros when empty, with a decodable histogram', () => {
    const s = new LatencyRecorder().summary();
    expect(s).toMatchObject({ count: 0, min: 0, mean: 0, p50: 0, p999: 0, max: 0 });
    expect(hdr.decodeFromCompressedBase64(s.histogram).totalCount).toBe(0);
  });
});

describe('nodeClientArgv', () => {
  const p = { hosts: ['10.0.0.1'], port: 80, durationMs: 1000, warmupMs: 0, connections: 1, messageSize: 64, rate: 50 };
  it('adds --rate only for clients that pace', () => {
    expect(nodeClientArgv('/x/client.js', p)).not.toContain('--rate');
    expect(nodeClientArgv('/x/client.js', p, { rate: true }).slice(-2)).toEqual(['--rate', '50']);
  });
  it('repeats --host for each host, in order', () => {
    const argv = nodeClientArgv('/x/client.js', { ...p, hosts: ['10.244.0.2', '10.244.0.3', '10.244.0.4'] });
    expect(argv.slice(2, 9)).toEqual(['--host', '10.244.0.2', '--host', '10.244.0.3', '--host', '10.244.0.4', '--port']);
  });
});

describe('roundRobin', () => {
  it('cycles over the targets from one counter', () => {
    const next = roundRobin(['a', 'b', 'c']);
    expect(Array.from({ length: 7 }, next)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    const one = roundRobin(['x']);
    expect([one(), one()]).toEqual(['x', 'x']);
  });
});
