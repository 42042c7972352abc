import { beforeAll, describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import {
  compiledWorkload,
  ensureBuilt,
  expectOneConnectionPerHost,
  isRoot,
  loopbackParams,
  runWorkload,
} from '../test-support/real-run.js';
import type { Workload } from '../types.js';
import { http } from './index.js';

const params = { hosts: ['10.96.0.10'], port: 80, durationMs: 5000, warmupMs: 1000, connections: 8, messageSize: 64 };

describe('http workload: argv', () => {
  it('runs the compiled node server with the pod name on port 8080', () => {
    const argv = http.serverArgv('srv-3');
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/http\/server\.js$/);
    expect(argv.slice(2)).toEqual(['--name', 'srv-3', '--port', '8080']);
    expect(http.serverPort).toBe(8080);
  });

  it('passes every parameter to the client, and the rate only when set', () => {
    const argv = http.clientArgv(params);
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/http\/client\.js$/);
    expect(argv.slice(2)).toEqual([
      '--host',
      '10.96.0.10',
      '--port',
      '80',
      '--duration-ms',
      '5000',
      '--warmup-ms',
      '1000',
      '--connections',
      '8',
      '--message-size',
      '64',
    ]);
    expect(http.clientArgv({ ...params, rate: 1000 }).slice(-2)).toEqual(['--rate', '1000']);
  });
});

describe('http workload: parseResult', () => {
  it('accepts a result line', () => {
    expect(http.parseResult(goodLine())).toEqual(goodResult());
  });
  it.each(badOutputs)('rejects %s with a clear message', (_label, stdout, message) => {
    expect(() => http.parseResult(stdout)).toThrow(message);
    expect(() => http.parseResult(stdout)).toThrow(/^http client: /);
  });
});

describe.runIf(isRoot)('http workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('http', 'http');
  });

  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(w);
  });

  it('drives keep-alive requests and records µs latencies', async () => {
    const run = await runWorkload(w, loopbackParams(w));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors + r.timeouts + r.non2xx).toBe(0);
    expect(r.latencyUs.count).toBe(r.ops);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    expect(r.answeredBy).toEqual({ 'srv-0': r.ops });
    // keep-alive: connections were opened during the warm-up, none in the measured time
    expect(r.connectionsOpened).toBe(0);
    expect(r.bytes).toBeGreaterThan(r.ops * 100); // status line + headers + body per response
    expect(r.durationMs).toBeGreaterThan(990);
    expect(r.cpuUs.user + r.cpuUs.system).toBeGreaterThan(0);
  });

  it('paces at a fixed rate and corrects for coordinated omission', async () => {
    // warm-up 0 and a whole second: autocannon's per-second quotas (lib/httpClient.js) line up
    // with the measured time, so about `rate` requests complete
    const run = await runWorkload(w, loopbackParams(w, { rate: 400, connections: 2, warmupMs: 0, durationMs: 1000 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(200);
    expect(r.ops).toBeLessThanOrEqual(480);
    // corrected histograms hold at least one value per response (more when one took > 5 ms)
    expect(r.latencyUs.count).toBeGreaterThanOrEqual(r.ops);
  });
});
