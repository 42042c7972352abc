// The full fuzzed-input campaign of issue 19 (test/faults/fuzz.test.ts runs a reduced one in CI):
// 500 command lines, 300 scenario files and 200 corrupted run.json files against the built CLI
// (npm run build first), each judged by test/faults/fuzz/harness.ts. Prints the counts by exit
// code and every input that broke a rule; exits 1 if any did.
//
//   npx tsx scripts/fuzz.ts [--seed N] [--cli 500] [--scenario 300] [--run-json 200]
//
// Everything it runs is --dry-run or invalid, but it snapshots /run/netns, /run/svcbench, the
// cgroups and mounts around each input: run it under the e2e lock so other runs' objects do not
// show up as created (flock /tmp/svcbench-e2e.lock npx tsx scripts/fuzz.ts).

import { parseArgs } from 'node:util';
import { describeFailure, runCampaign, type Kind } from '../test/faults/fuzz/campaign.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    cli: { type: 'string', default: '500' },
    scenario: { type: 'string', default: '300' },
    'run-json': { type: 'string', default: '200' },
  },
});
const seed = Number(values.seed);
const counts: [Kind, number][] = [
  ['cli', Number(values.cli)],
  ['scenario', Number(values.scenario)],
  ['run-json', Number(values['run-json'])],
];

let failed = 0;
console.log(`seed ${seed}`);
for (const [kind, count] of counts) {
  if (count === 0) continue;
  const t0 = performance.now();
  const r = await runCampaign(kind, count, seed, (o, k) => {
    if (o.problems.length > 0) console.log(`  ${kind} #${k}: ${describeFailure(o)}`);
  });
  const slowest = Math.max(...r.outcomes.map((o) => o.ms));
  const exits = Object.entries(r.byExit)
    .sort()
    .map(([e, n]) => `exit ${e}: ${n}`)
    .join(', ');
  console.log(
    `${kind}: ${count} inputs in ${((performance.now() - t0) / 1000).toFixed(0)} s (slowest ${(slowest / 1000).toFixed(1)} s): ${exits}; ${r.failures.length} broke a rule`,
  );
  failed += r.failures.length;
}
process.exitCode = failed > 0 ? 1 : 0;
