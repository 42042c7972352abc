// The full random-kill campaign of issue 19 item 1 (test/e2e/random-kill.test.ts runs a reduced,
// cheap one in CI): seeded trials, each a scenario (command × backend × phase: bench up, verify,
// run during a full sync at 300 or 10,000 services, during a case, during report writing,
// bench sync, every backend including eBPF's BPF load, --kernel guest's boot) × SIGKILL/SIGINT ×
// a delay; after each, the checks of test/faults/kill/campaign.ts. Prints the seed, one line per
// trial and the table: trials, phases hit, residues (goal 0), root-namespace changes.
//
//   npm run build && flock /tmp/svcbench-e2e.lock npx tsx scripts/random-kill.ts [--trials 100] [--seed N] [--cheap] [--only REGEX] [--json FILE] [--slice FROM:TO]
//   npx tsx scripts/random-kill.ts --table SLICE.json…      (the table of slices run apart)
//
// It builds real sandboxes and runs bench clean: only under the e2e lock, as root.
// --cheap leaves out the expensive scenarios (10,000 services, guest boots), as CI does.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeTrial, planTrials, runTrial, summaryTable, type TrialOutcome } from '../test/faults/kill/campaign.js';
import { residue, snapshotBefore } from '../test/faults/kill/residue.js';
import { SCENARIOS } from '../test/faults/kill/scenarios.js';
import { requireBuild, rootSnapshot } from '../test/faults/kill/host.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '100' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    cheap: { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
    // Trials FROM..TO-1 of the planned campaign (the same plan for the same seed and count), so a
    // long campaign can take the e2e lock in turns; --table prints the table of slices' --json files.
    slice: { type: 'string' },
    table: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (values.table) {
  const { positionals } = parseArgs({ options: { table: { type: 'boolean' } }, allowPositionals: true, strict: false });
  const all = positionals.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as TrialOutcome[]);
  console.log(
    summaryTable(
      all.map((o) => ({
        ...o,
        trial: { ...o.trial, scenario: SCENARIOS.find((x) => x.name === (o.trial.scenario as unknown as string))! },
      })),
    ),
  );
  process.exit(0);
}
requireBuild();
const seed = Number(values.seed);
const [from, to] = (values.slice ?? `0:${values.trials}`).split(':').map(Number) as [number, number];
const trials = planTrials(seed, Number(values.trials), {
  full: !values.cheap,
  ...(values.only === undefined ? {} : { only: new RegExp(values.only) }),
}).slice(from, to);
console.log(`random kills: seed ${seed}, ${trials.length} trials${values.cheap ? ' (cheap scenarios)' : ''}`);
const left = residue({ before: snapshotBefore() });
if (left.length > 0) {
  console.log(
    `refusing to start: svcbench objects exist already (another run, or a leftover: bench clean under the lock):\n  ${left.join('\n  ')}`,
  );
  process.exit(1);
}
const root = await rootSnapshot();
const out = mkdtempSync(join(tmpdir(), 'random-kill-'));
const outcomes: TrialOutcome[] = [];
const t0 = performance.now();
for (const t of trials) {
  const o = await runTrial(t, join(out, String(t.index)), { root });
  outcomes.push(o);
  const bad = [...o.residues, ...o.problems, ...o.rootChanged.map((k) => `root namespace changed: ${k}`)];
  console.log(
    `${describeTrial(t)}: ${o.phase}, exit ${o.exitCode ?? 'signal'}${o.completed ? `, ${o.completed} completed in results${o.reported ? ', report rendered' : ''}` : ''}${o.bpfSettleMs > 0 ? `, eBPF programs freed by the kernel ${o.bpfSettleMs} ms after the teardown` : ''} (${(o.ms / 1000).toFixed(1)} s)${bad.length ? `\n    ${bad.join('\n    ')}` : ''}`,
  );
}
rmSync(out, { recursive: true, force: true });
console.log(`\n${summaryTable(outcomes)}\nwall time ${((performance.now() - t0) / 1000).toFixed(0)} s, seed ${seed}`);
if (values.json !== undefined)
  writeFileSync(
    values.json,
    JSON.stringify(
      outcomes.map((o) => ({ ...o, trial: { ...o.trial, scenario: o.trial.scenario.name } })),
      null,
      1,
    ),
  );
const failed = outcomes.some((o) => o.residues.length + o.problems.length + o.rootChanged.length > 0);
process.exit(failed ? 1 : 0);
