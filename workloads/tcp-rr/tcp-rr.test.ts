import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { badOutputs, goodLine, goodResult } from '../test-support/fixtures.js';
import { compiledWorkload, ensureBuilt, loopbackParams } from '../test-support/real-run.js';
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
