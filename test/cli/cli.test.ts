import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { FakeExec, type Responder } from '../../src/exec/index.js';
import { PROBE_SCRIPT } from '../../src/probe/client.js';
import { tempDirs } from '../temp-dirs.js';

const newRunDir = tempDirs('svcbench-cli-run-');

// The CLI tier: the real command-line program against the fake exec (canned answers). Nothing runs.

async function cli(argv: string[]) {
  const exec = new FakeExec();
  let stdout = '';
  const stderr: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const code = await runCli(argv, { io, contextFor: () => ({ exec, ...io }) });
  return { code, stdout, stderr: stderr.join('\n'), commands: exec.commands };
}

const dir = tempDirs('svcbench-cli-')();
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('bad input exits 2, names the field, and creates nothing', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['unknown flag', ['up', '--podz', '3'], /unknown option '--podz'/],
    ['--pods 0', ['up', '--pods', '0'], /--pods: must be at least 1 \(got 0\)/],
    ['--pods 100000', ['up', '--pods', '100000'], /--pods: must be at most 1000 \(got 100000\)/],
    ['--pods not a number', ['up', '--pods', 'many'], /--pods: must be a whole number from 1 to 1000/],
    ['overlapping CIDRs', ['up', '--service-cidr', '10.244.128.0/17'], /--service-cidr: overlaps --pod-cidr \(10\.244\.0\.0\/16\)/],
    ['CIDR with host bits', ['up', '--pod-cidr', '10.244.0.1/16'], /--pod-cidr: must be an IPv4 CIDR with zero host bits/],
    [
      'CIDR too small for the pods',
      ['up', '--pods', '20', '--pod-cidr', '10.244.0.0/28'],
      /--pod-cidr: 10\.244\.0\.0\/28 has 16 addresses, too few for 20 server and 1 client pods/,
    ],
    ['external link too small', ['up', '--external-cidr', '198.18.0.0/31'], /--external-cidr: must hold at least 4 addresses/],
    ['bad run id', ['down', 'x;rm -rf /'], /RUN: must be a run id of 6 lower-case letters and digits/],
    ['bad exec target', ['exec', 'srv-0;ls'], /TARGET: must be node, node-N, underlay, external, srv-N or cli-N/],
    ['--max-repeat below --repeat', ['run', '--repeat', '5', '--max-repeat', '3'], /--max-repeat: must be at least --repeat \(5\); got 3/],
    ['--max-repeat below the default --repeat', ['run', '--max-repeat', '2'], /--max-repeat: must be at least --repeat \(3\); got 2/],
    ['--max-repeat 0', ['run', '--max-repeat', '0'], /--max-repeat: must be at least 1 \(got 0\)/],
    ['--ci-target negative', ['run', '--ci-target', '-1'], /--ci-target: must be at least 0 \(got -1\)/],
    ['--ci-target not a number', ['run', '--ci-target', 'tight'], /--ci-target: must be a percentage/],
    ['--nodes 0', ['up', '--nodes', '0'], /--nodes: must be at least 1 \(got 0\)/],
    ['--nodes 9', ['run', '--nodes', '9'], /--nodes: must be at most 4 \(got 9\)/],
    ['verify --nodes 9', ['verify', '--backend', 'nft', '--nodes', '9'], /--nodes: must be at most 4 \(got 9\)/],
    ['unknown --placement', ['run', '--nodes', '2', '--placement', 'far'], /--placement: must be one of spread, remote, local/],
    ['--placement remote on one node', ['verify', '--backend', 'nft', '--placement', 'remote'], /--placement: .*needs --nodes 2 or more/],
    [
      'a remote path on one node',
      ['run', '--path', 'pod,clusterip-remote'],
      /--path: clusterip-remote needs --nodes 2 or more \(got --nodes 1\)/,
    ],
    ['--guest-cpus without a guest', ['run', '--guest-cpus', '1'], /--guest-cpus: only with --kernel guest/],
    ['verify --guest-cpus without a guest', ['verify', '--backend', 'nft', '--guest-cpus', '1'], /--guest-cpus: only with --kernel guest/],
    ['sync --guest-cpus without a guest', ['sync', '--guest-cpus', '2'], /--guest-cpus: only with --kernel guest/],
    ['--guest-cpus 0', ['run', '--kernel', 'guest', '--guest-cpus', '0'], /--guest-cpus: must be at least 1 \(got 0\)/],
    ['nodeport-local-miss on one node', ['run', '--path', 'nodeport-local-miss'], /--path: nodeport-local-miss needs --nodes 2 or more/],
    [
      'a remote path with every endpoint on node 0',
      ['run', '--nodes', '2', '--placement', 'local', '--path', 'pod-remote'],
      /--placement: local puts every endpoint on the client's node, and --path pod-remote needs one on another node/,
    ],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.commands).toEqual([]);
  });

  const scenarios: [string, string, RegExp][] = [
    ['malformed YAML', 'services: [ {name: web', /not valid YAML or JSON/],
    [
      'shell metacharacters in a name',
      'services:\n  - name: "web;rm -rf /"\n    ports: [{port: 80}]\n',
      /services\[0\]\.name: must be a DNS-1035 label/,
    ],
    [
      'backticks in a namespace',
      'services:\n  - name: web\n    namespace: "`id`"\n    ports: [{port: 80}]\n',
      /services\[0\]\.namespace: must be a DNS-1123 label/,
    ],
    ['unknown field', 'services:\n  - name: web\n    prots: []\n    ports: [{port: 80}]\n', /services\[0\]: Unrecognized key: "prots"/],
    ['bad port', '{"services": [{"name": "web", "ports": [{"port": 70000}]}]}', /services\[0\]\.ports\[0\]\.port: must be at most 65535/],
    [
      'bad endpoint',
      'services:\n  - name: web\n    ports: [{port: 80}]\n    endpoints: ["srv-0; reboot"]\n',
      /services\[0\]\.endpoints\[0\]: must name a server pod as srv-N/,
    ],
    [
      'bad protocol',
      'services:\n  - name: web\n    ports: [{port: 53, protocol: SCTP}]\n',
      /services\[0\]\.ports\[0\]\.protocol: must be TCP or UDP/,
    ],
    [
      'bad externalTrafficPolicy',
      'services:\n  - name: web\n    type: NodePort\n    ports: [{port: 80}]\n    externalTrafficPolicy: local\n',
      /services\[0\]\.externalTrafficPolicy: must be Cluster or Local/,
    ],
    [
      'bad internalTrafficPolicy',
      'services:\n  - name: web\n    ports: [{port: 80}]\n    internalTrafficPolicy: Node\n',
      /services\[0\]\.internalTrafficPolicy: must be Cluster or Local/,
    ],
    [
      'bad path',
      'services:\n  - name: web\n    ports: [{port: 80}]\npaths: [pod, warp]\n',
      /paths\[1\]: must be one of pod, clusterip, clusterip-node, nodeport, hairpin/,
    ],
  ];
  it.each(scenarios)('scenario file: %s', async (name, text, message) => {
    const r = await cli(['up', '--scenario', file(`${name.replace(/\W/g, '_')}.yaml`, text)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.commands).toEqual([]);
  });

  it('a missing scenario file', async () => {
    const r = await cli(['up', '--scenario', join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--scenario: cannot read .*nope\.yaml/);
  });
});

describe('bench up against the fake exec', () => {
  it('builds the topology with one ip -batch for namespaces, one for the node, and one per other namespace', async () => {
    const r = await cli(['up', '--pods', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { runId } = JSON.parse(r.stdout) as { runId: string };
    const argvs = r.commands.map((c) => `${c.netns ? `[${c.netns}] ` : ''}${c.argv.join(' ')}`);
    expect(argvs[0]).toBe('ip -batch -');
    expect(r.commands[0]!.stdin).toBe(
      ['node', 'ext', 'srv-0', 'srv-1', 'srv-2', 'cli-0'].map((x) => `netns add svcb-${runId}-${x}\n`).join(''),
    );
    // 6 sysctl processes, 1 node batch, 5 batches for the other namespaces, and the run's own
    // bpffs mount: 14 commands in all (libbpf turns dots in pin paths into underscores: no dot in it).
    expect(argvs.filter((a) => a.includes('sysctl -q -w'))).toHaveLength(6);
    expect(argvs.filter((a) => a.startsWith('ip -n ') && a.endsWith('-batch -'))).toHaveLength(6);
    expect(argvs.at(-1)).toBe(`mount -t bpf bpf /run/svcbench/${runId}-bpffs`);
    expect(r.commands).toHaveLength(14);
    expect(r.commands.every((c) => Array.isArray(c.argv) && c.argv.every((a) => typeof a === 'string'))).toBe(true);
  });

  it('takes the pod count from a scenario file and lets flags win', async () => {
    const f = file(
      'ok.yaml',
      'sandbox: {clients: 2}\nservices:\n  - name: web\n    ports: [{name: http, port: 80, targetPort: 8080}]\n    endpoints: [srv-0, srv-4]\n',
    );
    const r = await cli(['up', '--scenario', f, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const pods = (JSON.parse(r.stdout) as { pods: { name: string }[] }).pods.map((p) => p.name);
    expect(pods).toEqual(['srv-0', 'srv-1', 'srv-2', 'srv-3', 'srv-4', 'cli-0', 'cli-1']);
    const tooFew = await cli(['up', '--scenario', f, '--pods', '2']);
    expect(tooFew.code).toBe(2);
    expect(tooFew.stderr).toMatch(/--pods: the scenario's endpoints name srv-4, so at least 5 pods are needed \(got 2\)/);
  });

  it('--help shows commands and defaults; --version prints the version', async () => {
    const help = await cli(['up', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--pods <value>\s+server pods \(default: 3\)/);
    expect(help.stdout).toMatch(/--pod-cidr <value>\s+pod CIDR \(default: "10\.244\.0\.0\/16"\)/);
    const top = await cli(['--help']);
    for (const c of ['up', 'down', 'exec', 'doctor', 'clean']) expect(top.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const v = await cli(['--version']);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('bench run against the fake exec: the readiness probe and read-back run on its canned answers', () => {
  const argv = ['run', '--backend', 'iptables-restore', '--services', '10', '--path', 'pod', '--workload', 'tcp-crr'];
  const flags = ['--repeat', '1', '--ci-target', '0', '--sync-iterations', '0', '--duration', '1', '--warmup', '0'];
  async function run(responder: Responder) {
    const exec = new FakeExec(responder);
    const stderr: string[] = [];
    const io = { out: () => undefined, say: (l: string) => void stderr.push(l) };
    const code = await runCli([...argv, ...flags, '--out', newRunDir()], {
      io,
      contextFor: () => ({ exec, ...io }),
    });
    return { code, stderr: stderr.join('\n'), exec };
  }
  const ran = (exec: FakeExec, what: (argv: readonly string[]) => boolean) => exec.commands.some((c) => what(c.argv));
  const probed = (argv: readonly string[]) => argv.includes(PROBE_SCRIPT) && !argv.includes('--connect-only') && !argv.includes('--poll');

  it('an empty read-back makes the backend unusable at that scale: its case errors before any probe', async () => {
    const r = await run((cmd) => (cmd.argv[0]?.endsWith('-save') ? { stdout: '' } : undefined));
    expect(r.code, r.stderr).toBe(0);
    expect(ran(r.exec, (a) => a[0]!.endsWith('-save'))).toBe(true);
    expect(r.stderr).toMatch(/0 cases completed, 1 errored/);
    expect(ran(r.exec, probed)).toBe(false);
    // The servers' readiness probe ran (an empty answer lists no target still closed).
    expect(ran(r.exec, (a) => a.includes(PROBE_SCRIPT) && a.includes('--connect-only'))).toBe(true);
  });
});
