import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTrial, planTrials, runTrial, summaryTable, type TrialOutcome } from '../faults/kill/campaign.js';
import { residue, snapshotBefore } from '../faults/kill/residue.js';
import { SCENARIOS } from '../faults/kill/scenarios.js';
import { bench, isRoot, requireBuild, rootSnapshot } from '../helpers.js';

// Random kills (issue 19 item 1), the reduced CI count of scripts/random-kill.ts: seeded trials
// over the cheap scenarios of test/faults/kill/scenarios.ts (bench up, verify, run during a full
// sync at 300 services, an eBPF load, a case, a sampled case, report writing, bench sync), each
// SIGKILL or SIGINT at a random moment of its phase; then the checks of campaign.ts: SIGINT tears
// down by itself, bench clean leaves nothing after a SIGKILL, an interrupted run's results verify
// and render. FAULTS_KILL_TRIALS trials, FAULTS_SEED picks them (printed). The full campaign
// (10,000 services, guest boots, 100 trials): scripts/random-kill.ts.
//
// By default one trial per cheap scenario: trials are stratified (campaign.ts planTrials), so one
// round aims at every scenario once; each CI run draws a new seed, so the signal, its target and
// the moment vary from run to run and the coverage adds up across runs, as the full campaign's
// does within one.

const TRIALS = Number(process.env.FAULTS_KILL_TRIALS ?? SCENARIOS.filter((s) => !s.full).length);
const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 1_000_000);

describe.runIf(isRoot)(`random kills (seed ${SEED})`, () => {
  let before: Record<string, string>;
  const out = mkdtempSync(join(tmpdir(), 'random-kill-'));
  beforeAll(async () => {
    requireBuild();
    expect(residue({ before: snapshotBefore() })).toEqual([]);
    before = await rootSnapshot();
  });
  afterAll(async () => {
    await bench(['clean']);
    rmSync(out, { recursive: true, force: true });
  });

  it(`${TRIALS} kills at random moments leave nothing after teardown or bench clean`, async () => {
    const outcomes: TrialOutcome[] = [];
    for (const t of planTrials(SEED, TRIALS, { full: false })) outcomes.push(await runTrial(t, join(out, String(t.index))));
    console.log(`random kills (seed ${SEED}):\n${summaryTable(outcomes)}`);
    const bad = outcomes.flatMap((o) => [...o.residues, ...o.problems].map((p) => `${describeTrial(o.trial)} (${o.phase}): ${p}`));
    expect(bad).toEqual([]);
  }, 300_000);

  it('leaves the root namespace exactly as it was', async () => {
    expect(await rootSnapshot()).toEqual(before);
  });
});
