import { beforeAll, describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { compiledWorkload, ensureBuilt, isRoot, loopbackParams, runWorkload, TWO_HOSTS } from '../test-support/real-run.js';
import type { Workload } from '../types.js';
import { udpRr } from './index.js';

describe('udp-rr workload: argv', () => {
  it('serves with the node dgram echo on 7002/UDP', () => {
    const argv = udpRr.serverArgv('srv-0');
    expect(argv[1]).toMatch(/\/workloads\/udp-rr\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--port', '7002']);
    expect(udpRr.protocol).toBe('UDP');
  });
  it('runs the compiled node client', () => {
    const argv = udpRr.clientArgv({ hosts: ['10.0.0.5'], port: 53, durationMs: 2000, warmupMs: 500, connections: 2, messageSize: 32 });
    expect(argv[1]).toMatch(/\/workloads\/udp-rr\/client\.js$/);
  });
});

describe('udp-rr workload: parseResult', () => {
  it('accepts a result line', () => expect(udpRr.parseResult(goodLine())).toEqual(goodResult()));
  it.each(badOutputs)('rejects %s', (_l, stdout, message) => expect(() => udpRr.parseResult(stdout)).toThrow(message));
});

describe.runIf(isRoot)('udp-rr workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('udp-rr', 'udpRr');
  });

  it('sends from socket i to host i % hosts (the pod path): 2 sockets, both hosts answered', async () => {
    const run = await runWorkload(w, loopbackParams(w, { hosts: TWO_HOSTS, connections: 2, warmupMs: 0, durationMs: 500 }), {
      countTo: true,
    });
    expect(run.code, run.stderr).toBe(0);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    const [a, b] = TWO_HOSTS.map((h) => run.countsTo![h]!);
    // one datagram in flight per socket, the same server behind both: about half each
    expect(a! / (a! + b!)).toBeGreaterThan(0.3);
    expect(a! / (a! + b!)).toBeLessThan(0.7);
  });

  it('echoes datagrams and records µs round trips', async () => {
    const run = await runWorkload(w, loopbackParams(w));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors).toBe(0);
    expect(r.timeouts).toBeLessThanOrEqual(r.ops / 100); // loopback loses (next to) nothing
    expect(r.bytes).toBe(r.ops * 64);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    expect(r.connectionsOpened).toBe(0);
  });

  it('counts lost datagrams as timeouts when no server answers', async () => {
    const p = loopbackParams(w, { connections: 2, warmupMs: 0, durationMs: 1000 });
    const run = await runWorkload(w, p, { server: false });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    // 200 ms per-datagram timeout: about 5 per socket per second
    expect(r.timeouts).toBeGreaterThanOrEqual(2 * 4);
    expect(r.timeouts).toBeLessThanOrEqual(2 * 5);
    expect(r.latencyUs.count).toBe(0);
  });
});
