import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { readRunChecked } from '../../src/run/results.js';
import { createRng } from '../../src/stats/prng.js';
import { requireBuild } from '../helpers.js';

// A kill while run.json is being written leaves the previous complete version (src/run/run-file.ts).
// A child process rewrites a large run.json (the fixture run with its cases repeated to ≈6 MB)
// as fast as it can, each version's `seed` one more than the last, printing each seed once its
// flush returned; it is SIGKILLed at a seeded random moment. After every kill run.json must parse,
// match its checksum and be a version at least as new as the last one the child acknowledged.
// Trials: FAULTS_TORN_TRIALS (default 12; scripts/fuzz.ts runs more).

const TRIALS = Number(process.env.FAULTS_TORN_TRIALS ?? 12);
const SEED = Number(process.env.FAULTS_SEED ?? Date.now() % 1_000_000);
const RESULTS = resolve('dist/src/run/results.js');
const FIXTURE = resolve('src/report/testdata/run/run.json');

const WRITER = `
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
const { RunWriter } = await import(process.env.RESULTS);
const run = JSON.parse(readFileSync(process.env.FIXTURE, 'utf8'));
const cases = run.cases;
run.cases = [];
for (let k = 0; k < 80; k++) run.cases.push(...cases.map((c) => ({ ...c, id: c.id + '~' + k })));
const w = new RunWriter(process.env.ROOT, run);
await mkdir(w.dir, { recursive: true });
for (let seed = Number(process.env.START); ; seed++) {
  run.seed = seed;
  await w.flush();
  process.stdout.write(seed + '\\n');
}
`;

const root = mkdtempSync(join(tmpdir(), 'svcbench-torn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a writer killed mid-write', () => {
  it(`leaves a complete, verified run.json after ${TRIALS} SIGKILLs at random moments (seed ${SEED})`, async () => {
    requireBuild();
    const rng = createRng(SEED);
    let acknowledged = -1;
    let tempLeft = 0;
    let runDir = '';
    for (let t = 0; t < TRIALS; t++) {
      const child = execa(process.execPath, ['--input-type=module', '-e', WRITER], {
        env: { RESULTS, FIXTURE, ROOT: root, START: String(acknowledged + 1) },
        reject: false,
        stdin: 'ignore',
      });
      let first: () => void;
      const started = new Promise<void>((r) => (first = r));
      child.stdout!.on('data', (chunk: Buffer) => {
        const seeds = chunk.toString().trim().split('\n').map(Number);
        acknowledged = Math.max(acknowledged, ...seeds);
        first();
      });
      await Promise.race([started, child]);
      // After the first flush, a random moment within the next few writes (each ≈50-300 ms here).
      await new Promise((r) => setTimeout(r, rng.nextInt(600)));
      child.kill('SIGKILL');
      const r = await child;
      expect(r.signal, String(r.stderr)).toBe('SIGKILL');
      runDir ||= join(root, readdirSync(root)[0]!);
      if (existsSync(join(runDir, '.run.json.tmp'))) tempLeft++;
      const { run, checksum } = await readRunChecked(runDir);
      expect(checksum).toBe('verified');
      expect(run.seed).toBeGreaterThanOrEqual(acknowledged);
      expect(run.cases).toHaveLength(72 * 80);
    }
    expect(statSync(join(runDir, 'run.json')).size).toBeGreaterThan(3_000_000);
    // How many kills landed while a new version was being written (the temp file was left):
    // printed so a run shows the test hit writes, not only the gaps between them.
    console.log(`torn-write: ${TRIALS} kills (seed ${SEED}), ${tempLeft} during a write, run.json complete and verified after each`);
  }, 120_000);
});
