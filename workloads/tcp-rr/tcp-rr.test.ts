import { execFile } from 'node:child_process';
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
import { tcpRr } from './index.js';

describe('tcp-rr workload: argv', () => {
  it('serves with a forking socat echo on 7001', () => {
    expect(tcpRr.serverArgv('srv-0')).toEqual(['socat', '-b', '65536', 'TCP4-LISTEN:7001,reuseaddr,fork,backlog=4096,nodelay', 'PIPE']);
    expect(tcpRr.serverPort).toBe(7001);
    expect(tcpRr.protocol).toBe('TCP');
  });
  it('runs the compiled node client with the message size', () => {
    const argv = tcpRr.clientArgv({ hosts: ['10.0.0.5'], port: 7001, durationMs: 2000, warmupMs: 0, connections: 3, messageSize: 1400 });
    expect(argv[0]).toBe(process.execPath);
    expect(argv[1]).toMatch(/\/workloads\/tcp-rr\/client\.js$/);
    expect(argv.slice(argv.indexOf('--message-size'), argv.indexOf('--message-size') + 2)).toEqual(['--message-size', '1400']);
  });
});

describe('tcp-rr workload: parseResult', () => {
  it('accepts a result line', () => expect(tcpRr.parseResult(goodLine())).toEqual(goodResult()));
  it.each(badOutputs)('rejects %s', (_l, stdout, message) => expect(() => tcpRr.parseResult(stdout)).toThrow(message));
});

describe.runIf(isRoot)('tcp-rr workload: real run on loopback in a throwaway namespace', () => {
  let w: Workload;
  beforeAll(async () => {
    ensureBuilt();
    w = await compiledWorkload('tcp-rr', 'tcpRr');
  });

  it('sends connection i to host i % hosts (the pod path): 2 connections, one per host', async () => {
    await expectOneConnectionPerHost(w);
  });

  it('echoes whole messages on persistent connections', async () => {
    // 3000 bytes: more than one segment's worth on some paths, so partial reads are exercised
    const run = await runWorkload(w, loopbackParams(w, { messageSize: 3000 }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/ignored SIGTERM/);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBeGreaterThan(100);
    expect(r.errors + r.timeouts).toBe(0);
    expect(r.latencyUs.count).toBe(r.ops);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeLessThan(100_000);
    // every transaction received its whole echo (± the one in progress per connection at the edges)
    expect(Math.abs(r.bytes - r.ops * 3000)).toBeLessThanOrEqual(2 * 4 * 3000);
    expect(r.connectionsOpened).toBe(0); // persistent: opened during the warm-up
    expect(r.answeredBy).toBeUndefined();
  });

  it('counts refused connections as errors and retries each after 10 ms, without spinning', async () => {
    // No server: every connect is refused (RST). 4 connections × 1 s / (10 ms + a connect) is
    // at most 400 attempts; a retry loop without the pause would make tens of thousands.
    const run = await runWorkload(w, loopbackParams(w), { server: false });
    expect(run.code, run.stderr).toBe(0);
    const r = w.parseResult(run.stdout);
    expect(r.ops).toBe(0);
    expect(r.connectionsOpened).toBe(0);
    expect(r.errors).toBeGreaterThan(40);
    expect(r.errors).toBeLessThanOrEqual(400);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });
});

describe('tcp-rr client: bad arguments', () => {
  let script: string;
  beforeAll(async () => {
    ensureBuilt();
    const compiled = await compiledWorkload('tcp-rr', 'tcpRr');
    script = compiled.clientArgv(loopbackParams(compiled))[1]!;
  });

  // No traffic: the client exits before opening anything.
  const runClient = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [script, ...args], (err, stdout, stderr) =>
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr }),
      );
    });

  it.each([
    [['--host', 'pod.example', '--port', '7001', '--duration-ms', '1000'], /--host must be an IP address/],
    [['--host', '127.0.0.1', '--host', 'pod.example', '--port', '7001', '--duration-ms', '1000'], /--host must be an IP address/],
    [['--port', '7001', '--duration-ms', '1000'], /--host is required/],
    [['--host', '127.0.0.1', '--port', '70000', '--duration-ms', '1000'], /--port must be an integer in \[1, 65535\]/],
    [['--host', '127.0.0.1', '--port', '7001'], /--duration-ms is required/],
    [['--host', '127.0.0.1', '--port', '7001', '--duration-ms', '1000', '--bogus', '1'], /Unknown option '--bogus'/],
  ])('exits 2 with a message on stderr and nothing on stdout: %j', async (args, message) => {
    const r = await runClient(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage: tcp-rr-client/);
  });
});
