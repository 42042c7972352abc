import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { DryRunExec, FakeExec } from '../../src/exec/index.js';
import { tempDirs } from '../temp-dirs.js';

// `bench sync` bad input: exit 2, a message naming the flag, nothing run.

async function cli(argv: string[]) {
  const exec = new FakeExec();
  const stderr: string[] = [];
  const io = { out: () => {}, say: (l: string) => void stderr.push(l) };
  let stdout = '';
  const io2 = { ...io, out: (t: string) => void (stdout += t) };
  const code = await runCli(argv, { io: io2, contextFor: () => ({ exec, ...io2 }) });
  return { code, stdout, stderr: stderr.join('\n'), commands: exec.commands };
}

const dir = tempDirs('svcbench-sync-cli-')();
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('bench sync: bad input exits 2 naming the flag, and creates nothing', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown kube-proxy line',
      ['sync', '--kube-proxy', '1.34'],
      /--kube-proxy: "1\.34" is not a kube-proxy line; one of 1\.35, 1\.36, 1\.37, single-map/,
    ],
    [
      '--kube-proxy with a backend that has none',
      ['sync', '--backend', 'iptables-restore', '--kube-proxy', '1.37'],
      /--kube-proxy: iptables-restore has no kube-proxy lines; only nft does/,
    ],
    ['unknown backend', ['sync', '--backend', 'pf'], /--backend: "pf" is not a backend; one of /],
    ['--churn 0', ['sync', '--churn', '0'], /--churn: must be at least 1 \(got 0\)/],
    ['--churn not a number', ['sync', '--churn', 'lots'], /--churn: must be a whole number from 1 to 10000/],
    ['--endpoints 0', ['sync', '--endpoints', '0'], /--endpoints: "0": a count must lie in 1\.\.10000; accepted: a count N/],
    [
      'bad --endpoints distribution',
      ['sync', '--endpoints', 'zipf:1.2'],
      /--endpoints: "zipf:1\.2" is not an endpoint count or distribution; accepted: .*zipf:S:MIN\.\.MAX/,
    ],
    ['empty --endpoints range', ['sync', '--endpoints', 'uniform:9..2'], /--endpoints: "uniform:9\.\.2": the range 9\.\.2 is empty/],
    ['--services 1', ['sync', '--services', '1'], /--services: must be at least 2 \(got 1\)/],
    ['--shape missing', ['sync', '--shape', join(dir, 'missing.json')], /--shape: cannot read .*missing\.json: ENOENT/],
    [
      '--shape not JSON',
      ['sync', '--shape', file('notjson.json', 'services: []')],
      /--shape: .*notjson\.json: at \(top level\): not valid JSON/,
    ],
    [
      '--shape without services',
      ['sync', '--shape', file('empty.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [] }))],
      /--shape: .*empty\.json has no services kube-proxy would program/,
    ],
    [
      '--shape malformed',
      [
        'sync',
        '--shape',
        file(
          'bad.json',
          JSON.stringify({
            kind: 'List',
            items: [{ kind: 'Service', metadata: { name: 'a', namespace: 'b' }, spec: { ports: [{ port: 'http' }] } }],
          }),
        ),
      ],
      /--shape: .*bad\.json: at items\[0\]\.spec\.ports\[0\]\.port: expected a port number/,
    ],
    ['--nodes 0', ['sync', '--nodes', '0'], /--nodes: must be at least 1 \(got 0\)/],
    ['--nodes 9', ['sync', '--nodes', '9'], /--nodes: must be at most 4 \(got 9\)/],
    ['unknown --placement', ['sync', '--nodes', '2', '--placement', 'nowhere'], /--placement: must be one of spread, remote, local/],
    [
      '--placement remote on one node',
      ['sync', '--placement', 'remote'],
      /--placement: remote puts no pod on the client's node: it needs --nodes 2/,
    ],
    [
      '--shape with --endpoints',
      ['sync', '--shape', 'scenarios/shape-44k-x1.json', '--endpoints', '3'],
      /--endpoints: the services follow --shape FILE/,
    ],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await cli(argv);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.commands).toEqual([]);
  });
});

describe('bench run: --kube-proxy and --endpoints bad input exits 2 naming the flag', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown kube-proxy line',
      ['run', '--kube-proxy', '1.33'],
      /--kube-proxy: "1\.33" is not a kube-proxy line; one of 1\.35, 1\.36, 1\.37, single-map/,
    ],
    [
      '--kube-proxy without nft',
      ['run', '--backend', 'ebpf', '--kube-proxy', '1.36'],
      /--kube-proxy: ebpf has no kube-proxy lines; only nft does/,
    ],
    ['--endpoints over the real pods', ['run', '--endpoints', '65'], /--endpoints: "65": a count must lie in 1\.\.64/],
    [
      'bad --endpoints distribution',
      ['run', '--endpoints', 'zipf:x:1..5'],
      /--endpoints: "zipf:x:1\.\.5" is not an endpoint count or distribution/,
    ],
  ];
  it.each(cases)('%s', async (_name, argv, message) => {
    const r = await cli(argv);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.commands).toEqual([]);
  });
});

/** The CLI with --dry-run's exec: commands printed (collected here), nothing run or written. */
async function dryRun(argv: string[]) {
  let stdout = '';
  const stderr: string[] = [];
  const printed: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const code = await runCli(argv, { io, contextFor: () => ({ exec: new DryRunExec((l) => void printed.push(l)), ...io }) });
  return { code, stdout, stderr: stderr.join('\n'), printed: printed.join('\n') };
}

describe('bench run --kube-proxy (--dry-run)', () => {
  it('makes each kube-proxy line a backend of the matrix, labelled nft (LINE)', async () => {
    const argv = [
      'run',
      '--backend',
      'nft',
      '--kube-proxy',
      '1.35,1.37',
      '--services',
      '5',
      '--workload',
      'tcp-crr',
      '--path',
      'clusterip',
    ];
    const r = await dryRun([...argv, '--repeat', '1', '--ci-target', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { groups } = JSON.parse(r.stdout) as { groups: { backend: string }[] };
    expect(groups.map((g) => g.backend).sort()).toEqual(['nft (1.35)', 'nft (1.37)']);
  });
});

describe('bench sync --dry-run', () => {
  it('prints the commands of a small run and writes nothing', async () => {
    const r = await dryRun(['sync', '--services', '5', '--repeat', '1', '--kube-proxy', '1.35,1.37']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nft \(1\.35\), nft \(1\.37\) at 5 services, 1 repetitions/);
    expect(r.stderr).toMatch(/2 points completed, 0 errored/);
    expect(r.printed).toMatch(/nft/);
  });

  it('reads a shape file and scales it', async () => {
    const r = await dryRun(['sync', '--shape', 'scenarios/shape-5k-x50.json', '--services', '20', '--repeat', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/at 20 services/);
  });
});
