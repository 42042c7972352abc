import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRunChecked } from '../../src/run/results.js';
import { BENCH, bench, isRoot, ourNamespaces, processesMentioning, requireBuild, rootSnapshot, stateFiles } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
const concA = tempDirs('svcbench-conc-a-');
const concB = tempDirs('svcbench-conc-b-');

// Concurrent runs (issue 19 item 3): two `bench run`s and a `bench up` at once, all on the default
// (so overlapping) address ranges, each in its own namespaces; `bench clean` while they run must
// leave every live run alone (it removes only runs whose process is gone). All complete, each run's run.json holds its own cases only, and
// afterwards nothing is left.

const RUN = ['--services', '10', '--workload', 'tcp-rr', '--path', 'pod', '--repeat', '1', '--duration', '1', '--ci-target', '0'];

const start = (args: string[]) => execa(process.execPath, [BENCH, ...args], { reject: false, stdin: 'ignore', timeout: 300_000 });

describe.runIf(isRoot)('concurrent runs', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    expect(ourNamespaces()).toEqual([]);
    before = await rootSnapshot();
  });
  afterAll(async () => {
    await bench(['clean']);
  });

  it('two bench runs and a bench up at once complete, keep their own results, and survive bench clean', async () => {
    const outs = [concA(), concB()];
    const runs = outs.map((out) => start(['run', '--backend', 'nft', ...RUN, '--out', out]));
    const up = start(['up', '--pods', '3', '--json']);
    // bench clean while all three are building or measuring: every one has a live owner.
    await new Promise((r) => setTimeout(r, 1000));
    const cleanDuring = await bench(['clean', '--json']);
    expect(cleanDuring.exitCode, cleanDuring.stderr).toBe(0);
    const during = JSON.parse(cleanDuring.stdout) as { removed: { runId: string }[]; inUse: { runId: string }[] };

    const [a, b, u] = await Promise.all([...runs, up]);
    for (const r of [a!, b!, u!]) expect(r.exitCode, String(r.stderr).slice(-2000)).toBe(0);
    const upRun = (JSON.parse(String(u!.stdout)) as { runId: string }).runId;
    // The runs were live: clean left them (they completed, below). bench up builds in about 2 s,
    // so by then its process may be gone and its sandbox a kept one, which clean removes by design
    // (its owner is gone): then whole, else untouched.
    expect(during.removed.map((r) => r.runId).filter((id) => id !== upRun)).toEqual([]);
    const upRemoved = during.removed.some((r) => r.runId === upRun);
    expect(ourNamespaces(upRun)).toHaveLength(upRemoved ? 0 : 3 + 1 + 2);

    const ids: string[] = [];
    for (const out of outs) {
      const dirs = readdirSync(out).filter((d) => d !== 'latest');
      expect(dirs).toHaveLength(1);
      const { run, checksum } = await readRunChecked(join(out, dirs[0]!));
      expect(checksum).toBe('verified');
      expect(run.state).toBe('completed');
      expect(run.cases.map((c) => c.id)).toEqual(['nft (1.37)/10/pod/tcp-rr#1']);
      expect(run.cases[0]!.state, JSON.stringify(run.cases[0])).toBe('completed');
      ids.push(run.runId);
    }
    expect(ids[0]).not.toBe(ids[1]);

    if (!upRemoved) {
      const down = await bench(['down', upRun]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    expect(ourNamespaces()).toEqual([]);
    expect(stateFiles()).toEqual([]);
    expect(processesMentioning('svcb-')).toEqual([]);
  }, 300_000);

  it('leaves the root namespace exactly as it was', async () => {
    expect(await rootSnapshot()).toEqual(before);
  });
});
