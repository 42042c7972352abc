import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSchema } from '../../src/run/results.js';
import { BENCH, bench, isRoot, ourNamespaces, preflightVerdict, requireBuild, rootSnapshot, stateFiles } from '../helpers.js';

// Where preflight finds IPVS unavailable (a kernel without IP_VS, as this machine's:
// ../shared/reference/environment.md), the ipvs backend says so and names --kernel guest, and a
// matrix that includes it still runs the others. Where it is ready, these tests do not apply.

const ipvsVerdict = isRoot && existsSync(BENCH) ? await preflightVerdict('ipvs') : undefined;
const ipvsUnavailable = ipvsVerdict?.state === 'unavailable';

/** Namespaces and state files that appeared since `before` (other runs may be live alongside). */
const appeared = (before: { ns: string[]; state: string[] }) => [
  ...ourNamespaces().filter((n) => !before.ns.includes(n)),
  ...stateFiles().filter((f) => !before.state.includes(f)),
];

describe.runIf(ipvsUnavailable)('ipvs where preflight finds it unavailable (a host kernel without IP_VS)', () => {
  let root: Record<string, string>;
  const before = { ns: [] as string[], state: [] as string[] };
  let out = '';
  beforeAll(async () => {
    requireBuild();
    out = mkdtempSync(join(tmpdir(), 'svcbench-ipvs-host-'));
    root = await rootSnapshot();
    before.ns = ourNamespaces();
    before.state = stateFiles();
  });
  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
    expect(appeared(before)).toEqual([]);
    expect(await rootSnapshot()).toEqual(root);
  });

  it('bench verify and bench run --backend ipvs exit 1 with the reason and the fix, creating nothing', async () => {
    for (const args of [
      ['verify', '--backend', 'ipvs'],
      ['run', '--backend', 'ipvs', '--services', '5', '--out', out],
    ]) {
      const r = await bench(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/ipvs.*unavailable/);
      expect(r.stderr).toContain(ipvsVerdict!.reason!);
      expect(r.stderr).toContain('--kernel guest');
      expect(appeared(before)).toEqual([]);
    }
  });

  it('a matrix of nft and ipvs records the ipvs cases as skipped while nft runs', async () => {
    const r = await bench(
      [
        'run',
        '--backend',
        'nft,ipvs',
        '--path',
        'pod,clusterip',
        '--workload',
        'tcp-rr',
        '--services',
        '5',
        '--repeat',
        '1',
        '--ci-target',
        '0',
        '--duration',
        '0.3',
        '--warmup',
        '0.1',
        '--sync-iterations',
        '1',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const { dir } = JSON.parse(r.stdout) as { dir: string };
    const run = runSchema.parse(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')));
    const byBackend = (name: string) => run.cases.filter((c) => c.backend === name);
    expect(byBackend('nft (1.37)').map((c) => c.state)).toEqual(['completed', 'completed']);
    const ipvs = byBackend('ipvs');
    expect(ipvs).toHaveLength(2);
    for (const c of ipvs) {
      expect(c.state).toBe('skipped');
      expect(c.state === 'skipped' && c.reason).toContain(ipvsVerdict!.reason!);
    }
  });
});
