import { describe, expect, it } from 'vitest';
import { goodResult } from '../../workloads/test-support/fixtures.js';
import type { Workload, WorkloadParams } from '../../workloads/types.js';
import { sandboxSchema } from '../config/sandbox.js';
import type { Command, Exec, ExecResult } from '../exec/index.js';
import { PROBE_SCRIPT } from '../probe/client.js';
import { planTopology } from '../sandbox/plan.js';
import { pathEndpoints, runCase } from './case.js';
import type { BackendEnv } from './backend-sandbox.js';
import type { PlannedCase } from './plan.js';
import { scaleState } from './services.js';

// 4 server pods (3 endpoints + the spare) and one client, as openEnv builds them.
const plan = planTopology('t1', sandboxSchema.parse({ pods: 4, clients: 1 }));
const ip = (role: string) => plan.pods.find((p) => p.role === role)!.ip;
const env = {
  sandbox: { plan },
  targets: [{ netns: plan.node.netns }],
  servers: [],
  measured: {
    clusterIP: '10.96.0.10',
    ports: [
      { name: 'tcp-crr', port: 80, targetPort: 7003, nodePort: 30080 },
      { name: 'ident', port: 9000, targetPort: 9000, nodePort: 30900 },
    ],
  },
} as unknown as BackendEnv;
const port = { port: 80, targetPort: 7003, nodePort: 30080 };

describe('pathEndpoints across nodes', () => {
  // 3 nodes, spread: srv-0 and srv-3 on node 0, srv-1 on node 1, srv-2 on node 2.
  const three = planTopology('t1', sandboxSchema.parse({ pods: 4, clients: 1, nodes: 3 }));
  const { state, crossNode } = scaleState({ plan: three, services: 5, endpoints: 3, target: 'last', seed: 1, workloads: [] });
  const multi = { ...env, sandbox: { plan: three }, measured: state.services[4], crossNode } as unknown as BackendEnv;
  const ident = state.services[4]!.ports.find((p) => p.name === 'ident')!;
  it('adds the remote and Local services after the measured one, with the endpoints off node 0', () => {
    expect(state.services.map((s) => `${s.name}:${s.externalTrafficPolicy}`).slice(4)).toEqual([
      'measured:Cluster',
      'measured-remote:Cluster',
      'measured-local:Local',
    ]);
    expect(crossNode!.pods.map((p) => p.role)).toEqual(['srv-1', 'srv-2']);
  });
  it('aims each cross-node path where it must', () => {
    const p = (path: Parameters<typeof pathEndpoints>[1]) => pathEndpoints(multi, path, ident, 3);
    expect(p('pod-remote')).toMatchObject({ hosts: ['10.244.64.2', '10.244.128.2'], expect: ['srv-1', 'srv-2'] });
    expect(p('clusterip-remote')).toMatchObject({ hosts: [crossNode!.remote.clusterIP], pool: ['srv-1', 'srv-2'] });
    expect(p('nodeport-remote')).toMatchObject({
      netns: three.external.netns,
      hosts: ['198.18.0.1'],
      port: crossNode!.remote.ports[0]!.nodePort,
    });
    expect(p('nodeport-local')).toMatchObject({ hosts: ['198.18.0.3'], port: crossNode!.local.ports[0]!.nodePort });
    expect(p('nodeport-local-miss')).toMatchObject({ hosts: ['198.18.0.1'], unanswered: true });
  });
});

describe('pathEndpoints', () => {
  it('pod: every endpoint pod IP on the target port, each to be answered by its own pod; the spare is left out', () => {
    expect(pathEndpoints(env, 'pod', port, 3)).toEqual({
      netns: plan.pods.find((p) => p.role === 'cli-0')!.netns,
      hosts: [ip('srv-0'), ip('srv-1'), ip('srv-2')],
      port: 7003,
      expect: ['srv-0', 'srv-1', 'srv-2'],
    });
    expect(pathEndpoints(env, 'pod', port, 1)).toMatchObject({ hosts: [ip('srv-0')], expect: ['srv-0'] });
  });

  it('Service paths: one address, any endpoint may answer', () => {
    expect(pathEndpoints(env, 'clusterip', port, 3)).toMatchObject({ hosts: ['10.96.0.10'], port: 80, expect: undefined });
    expect(pathEndpoints(env, 'nodeport', port, 3)).toMatchObject({ hosts: [plan.node.ip], port: 30080, expect: undefined });
  });
});

describe('runCase: the path check before the pod path', () => {
  const workload = {
    name: 'tcp-crr',
    opUnit: 'connections',
    clientArgv: (p: WorkloadParams) => ['client', ...p.hosts],
    parseResult: () => goodResult(),
  } as unknown as Workload;
  const c: PlannedCase = { id: 'nft/10/pod/tcp-crr#1', backend: 'nft', services: 10, path: 'pod', workload: 'tcp-crr', repetition: 1 };
  const settings = { endpoints: 3, target: 'last', durationMs: 200, warmupMs: 0, connections: 2, messageSize: 64 };

  /** A real-looking exec: the prober answers each target with `answerer(ip)`, the client prints a result. */
  function fakeExec(answerer: (ip: string) => string) {
    const commands: Command[] = [];
    const exec: Exec = {
      observe: (read) => read(),
      alter: async (_change, instead) => instead(),
      async run(cmd): Promise<ExecResult> {
        commands.push(cmd);
        let stdout = '';
        if (cmd.argv[1] === PROBE_SCRIPT) {
          const targets = cmd.argv.filter((a) => /^\d+\.\d+\.\d+\.\d+:\d+$/.test(a));
          stdout = targets.map((t) => JSON.stringify({ target: t, ok: true, reply: answerer(t.split(':')[0]!), ms: 1 })).join('\n');
        } else if (cmd.argv[0] === 'client') stdout = JSON.stringify(goodResult());
        return { stdout, stderr: '', exitCode: 0, durationMs: 1 };
      },
      start: () => {
        throw new Error('not used');
      },
    };
    return { exec, commands };
  }
  const owner = (addr: string) => plan.pods.find((p) => p.ip === addr)!.role;

  it('probes every endpoint pod and drives the client at all of them', async () => {
    const { exec, commands } = fakeExec(owner);
    const r = await runCase(exec, env, c, workload, settings);
    expect(r.state).toBe('completed');
    if (r.state === 'completed') expect(r.checkedBy).toBe('srv-0,srv-1,srv-2');
    const probeCmd = commands.find((x) => x.argv[1] === PROBE_SCRIPT)!;
    expect(probeCmd.argv.slice(-3)).toEqual([`${ip('srv-0')}:9000`, `${ip('srv-1')}:9000`, `${ip('srv-2')}:9000`]);
    expect(commands.find((x) => x.argv[0] === 'client')!.argv).toEqual(['client', ip('srv-0'), ip('srv-1'), ip('srv-2')]);
  });

  it('errors when any one pod IP is answered by another pod', async () => {
    const { exec } = fakeExec((addr) => (addr === ip('srv-2') ? 'srv-0' : owner(addr)));
    const r = await runCase(exec, env, c, workload, settings);
    expect(r.state).toBe('errored');
    if (r.state === 'errored') expect(r.reason).toBe(`path pod does not forward: ${ip('srv-2')}:9000 answered by srv-0, expected srv-2`);
  });
});
