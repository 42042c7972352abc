import { describe, expect, it } from 'vitest';
import { requireBuild } from '../helpers.js';
import { describeFailure, runCampaign, type Kind } from './fuzz/campaign.js';

// Fuzzed inputs (issue 19 item 2) at a reduced count, so this file stays within about a minute:
// command lines, scenario files and corrupted run.json files against the built CLI, each judged by
// fuzz/harness.ts (exit 0/1/2 with a message naming the field, no stack trace, no hang, nothing
// created). scripts/fuzz.ts runs the full counts. FAULTS_SEED picks the inputs (printed);
// FAULTS_FUZZ_SCALE multiplies the counts.
//
// Everything it runs is --dry-run or invalid input, so it needs no lock; run it under the e2e lock
// with FAULTS_EXCLUSIVE=1 to count every new svcb-* object as created (else only those whose run
// id the input printed: other runs' sandboxes may come and go meanwhile).

const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 1_000_000);
const SCALE = Number(process.env.FAULTS_FUZZ_SCALE ?? 1);
const COUNTS: [Kind, number][] = [
  ['cli', 30],
  ['scenario', 20],
  ['run-json', 20],
];

describe(`fuzzed inputs (seed ${SEED})`, () => {
  for (const [kind, count] of COUNTS) {
    const n = Math.max(1, Math.round(count * SCALE));
    it(
      `${n} ${kind} inputs: exit 0, 1 or 2 with a message, no stack trace, no hang, nothing created`,
      async () => {
        requireBuild();
        const r = await runCampaign(kind, n, SEED);
        // The slowest input, to tell a loaded machine (TIMEOUT_MS) from an input that is slow itself.
        const slowest = r.outcomes.reduce((a, o) => (o.ms > a.ms ? o : a), r.outcomes[0]!);
        console.log(`${kind} (seed ${SEED}): ${JSON.stringify(r.byExit)}; slowest ${Math.round(slowest.ms)} ms: ${slowest.argv.join(' ')}`);
        expect(r.failures.map(describeFailure)).toEqual([]);
        expect(r.outcomes).toHaveLength(n);
      },
      120_000 * SCALE,
    );
  }
});
