import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { cliVector, readCliSpec } from './cli.js';
import { runInput, type Judge, type Outcome } from './harness.js';
import { FIXTURE_DIR, runJsonInput, type RunJsonInput } from './run-json.js';
import { scenarioInput, type ScenarioInput } from './scenario.js';

// A campaign: `count` inputs of one kind drawn with fast-check from `seed` (fc.sample: the same
// seed gives the same inputs), each run in a fresh working directory, one after another (so a
// system object that appears belongs to the input that ran).

export type Kind = 'cli' | 'scenario' | 'run-json';

export interface CampaignResult {
  kind: Kind;
  seed: number;
  outcomes: Outcome[];
  /** Inputs by exit code ('hang' when killed at the time limit). */
  byExit: Record<string, number>;
  failures: Outcome[];
}

const VALID_SCENARIO = 'services:\n  - name: web\n    ports: [{ port: 80 }]\n    endpoints: [srv-0]\n';

const cliJudge = (argv: string[]): Judge => ({
  namesField: (e) =>
    /--[a-z][a-z-]*|\b(RUN|RUN_A|RUN_B|TARGET|CMD)\b|unknown command|too many arguments|missing required argument|sandbox|scenario/.test(e),
  mayWrite: argv.includes('report') && !argv.includes('--dry-run'),
});

const scenarioJudge: Judge = {
  namesField: (e) => /scenario\.(yaml|json)|--scenario|--[a-z][a-z-]*:/.test(e),
  mayWrite: false,
};

const runJsonJudge = (i: RunJsonInput): Judge => ({
  namesField: (e) => /\bRUN(_A|_B)?: /.test(e) || /--fail-on-regression/.test(e),
  mayWrite: i.command === 'report',
});

function cliArgv(argv: string[], work: string): string[] {
  writeFileSync(join(work, 'scenario.yaml'), VALID_SCENARIO);
  cpSync(FIXTURE_DIR, join(work, 'run'), { recursive: true });
  return argv;
}

function scenarioArgv(i: ScenarioInput, work: string): string[] {
  writeFileSync(join(work, i.name), i.text);
  return ['--dry-run', 'up', '--scenario', i.name, ...i.flags];
}

function runJsonArgv(i: RunJsonInput, work: string): string[] {
  const bad = join(work, 'bad');
  mkdirSync(bad);
  if (i.text === undefined) mkdirSync(join(bad, 'run.json'));
  else writeFileSync(join(bad, 'run.json'), i.text);
  cpSync(FIXTURE_DIR, join(work, 'good'), { recursive: true });
  const [a, b] =
    i.command === 'compare-a'
      ? ['bad', 'good']
      : i.command === 'compare-b'
        ? ['good', 'bad']
        : i.command === 'compare-both'
          ? ['bad', 'bad']
          : [];
  return i.command === 'report' ? ['report', 'bad', ...i.flags] : ['compare', a!, b!, ...i.flags];
}

export async function runCampaign(
  kind: Kind,
  count: number,
  seed: number,
  onOutcome: (o: Outcome, k: number) => void = () => {},
): Promise<CampaignResult> {
  const root = mkdtempSync(join(tmpdir(), `svcbench-fuzz-${kind}-`));
  const outcomes: Outcome[] = [];
  try {
    const prepare: ((work: string) => { argv: string[]; judge: Judge })[] =
      kind === 'cli'
        ? fc.sample(cliVector(readCliSpec()), { seed, numRuns: count }).map((v) => (w) => ({ argv: cliArgv(v, w), judge: cliJudge(v) }))
        : kind === 'scenario'
          ? fc.sample(scenarioInput, { seed, numRuns: count }).map((v) => (w) => ({ argv: scenarioArgv(v, w), judge: scenarioJudge }))
          : fc.sample(runJsonInput, { seed, numRuns: count }).map((v) => (w) => ({ argv: runJsonArgv(v, w), judge: runJsonJudge(v) }));
    for (const [k, p] of prepare.entries()) {
      const work = join(root, String(k));
      mkdirSync(work);
      const { argv, judge } = p(work);
      const o = await runInput(argv, work, judge);
      outcomes.push(o);
      onOutcome(o, k);
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const byExit: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.problems.some((p) => p.startsWith('hang')) ? 'hang' : String(o.exitCode ?? o.signal);
    byExit[key] = (byExit[key] ?? 0) + 1;
  }
  return { kind, seed, outcomes, byExit, failures: outcomes.filter((o) => o.problems.length > 0) };
}

/** One line per failed input: what broke and the input, shortened for a terminal. */
export function describeFailure(o: Outcome): string {
  const argv = o.argv.map((a) => (a.length > 60 ? `${JSON.stringify(a.slice(0, 60))}…(${a.length})` : JSON.stringify(a))).join(' ');
  const err = o.stderr
    .split('\n')
    .filter((l) => !l.startsWith('+ ') && !l.startsWith('    '))
    .slice(-3)
    .join(' | ')
    .slice(0, 300);
  return `${o.problems.join('; ')} [exit ${o.exitCode ?? o.signal}, ${Math.round(o.ms)} ms]: bench ${argv}\n    ${err}`;
}
