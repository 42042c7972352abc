import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, isRoot, leavesNothingBehind } from '../helpers.js';
import { tempDirs } from '../temp-dirs.js';
import { readRunJson, shortIn } from './run-helpers.js';

// `bench run`'s adaptive repetitions. Apart from run.test.ts, and run alone (timing in
// vitest.config.ts): the loose target below needs six repetitions' throughputs within 2x of each
// other, which other load generators sharing the 2 CPUs can break.

const outDir = tempDirs('svcbench-run-adaptive-');

describe.runIf(isRoot)('bench run', { timeout: 300_000 }, () => {
  leavesNothingBehind({ stateFiles: true });

  it('adaptive repetitions: an unreachable --ci-target runs up to --max-repeat and warns, unless --time-budget stops it; a loose one stops at --repeat', async () => {
    const out = outDir();
    const short = shortIn(out);
    const args = [
      'run',
      '--backend',
      'nft',
      '--workload',
      'tcp-rr',
      '--path',
      'pod',
      '--services',
      '10',
      '--repeat',
      '2',
      '--max-repeat',
      '4',
    ];
    const tight = await bench([...args, '--ci-target', '0.001', ...short], { timeoutMs: 120_000 });
    expect(tight.exitCode, tight.stderr).toBe(0);
    expect(tight.stderr).toMatch(
      /extra round 1 @10 services: 1 case group \(median's CI wider than ±0\.001% or n < 6: nft \(1\.37\) pod tcp-rr\)/,
    );
    expect(tight.stderr).toMatch(/extra round 2 @10 services/);
    expect(tight.stderr).not.toMatch(/extra round 3/);
    const run = readRunJson(join(out, 'latest'));
    expect(run.state).toBe('completed');
    expect(run.flags).toMatchObject({ repeat: 2, maxRepeat: 4, ciTarget: 0.001 });
    expect(run.cases.map((c) => [c.id, c.state])).toEqual([1, 2, 3, 4].map((k) => [`nft (1.37)/10/pod/tcp-rr#${k}`, 'completed']));
    const warning = /CI wider than ±0\.001% after 4 repetitions \(--ci-target\)/;
    expect(tight.stdout).toMatch(/^\* this case group: CI wider than ±0\.001% after 4 repetitions/m);
    expect(tight.stderr).toMatch(warning);
    expect(readFileSync(join(out, 'latest', 'report.md'), 'utf8')).toMatch(warning);

    // The same unreachable target within a 1 s budget: the first extra round would end past it.
    const budgeted = await bench([...args, '--ci-target', '0.001', '--time-budget', '1', ...short], { timeoutMs: 120_000 });
    expect(budgeted.exitCode, budgeted.stderr).toBe(0);
    expect(budgeted.stderr).not.toMatch(/^extra round/m);
    expect(budgeted.stderr).toMatch(/no extra round @10 services: 1 case group .* would end past the 1 s --time-budget/);
    expect(readRunJson(join(out, 'latest')).cases.map((c) => c.id)).toEqual([1, 2].map((k) => `nft (1.37)/10/pod/tcp-rr#${k}`));

    // A loose target is met as soon as there are 6 values (fewer give no 95% interval).
    const loose = await bench([...args.slice(0, -4), '--repeat', '6', '--max-repeat', '8', '--ci-target', '100', ...short], {
      timeoutMs: 120_000,
    });
    expect(loose.exitCode, loose.stderr).toBe(0);
    expect(loose.stderr).not.toMatch(/extra round/);
    const run2 = readRunJson(join(out, 'latest'));
    expect(run2.cases.map((c) => [c.id, c.state])).toEqual([1, 2, 3, 4, 5, 6].map((k) => [`nft (1.37)/10/pod/tcp-rr#${k}`, 'completed']));
    expect(readFileSync(join(out, 'latest', 'report.md'), 'utf8')).not.toMatch(/--ci-target\)/);
  });
});
