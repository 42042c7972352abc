import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { runFileText } from '../../../src/run/run-file.js';

// Corrupted run.json files for `bench report` and `bench compare`, from the committed example run
// (src/report/testdata/run): cut short, wrong schema version, NaN, infinities, negative and
// fractional values, wrong types, missing fields and cases, odd states, and each either with a
// checksum computed after the damage (so the schema and the reporters see it), with the checksum
// of the undamaged file (an edit) or without one (an old run).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export const FIXTURE_DIR = resolve('src/report/testdata/run');
const base = (): Json => JSON.parse(readFileSync(resolve(FIXTURE_DIR, 'run.json'), 'utf8')) as Json;

function leaves(v: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, [...at, k], out);
  if (at.length > 0) out.push(at);
  return out;
}

const get = (v: Json, path: (string | number)[]): Json => path.reduce<Json>((x, k) => (x as Record<string | number, Json>)[k]!, v);

function set(v: Json, path: (string | number)[], value: Json | undefined): void {
  const parent = get(v, path.slice(0, -1)) as Record<string | number, Json>;
  const k = path.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
  } else parent[k] = value;
}

/** Marker values that JSON cannot carry; replaced in the text after serialising. */
const NAN = '__NaN__';
const INF = '__Infinity__';

const VALUES: Json[] = [NAN, INF, -1, -1e308, 1e308, 0, 0.5, -0.000001, 2 ** 53 + 1, null, '', 'x', true, [], {}];

type Damage = (run: Json, pick: number, aux: number) => void;

const numericLeaves = (run: Json) => leaves(run).filter((p) => typeof get(run, p) === 'number');

const DAMAGE: Damage[] = [
  // a number replaced (NaN, infinity, negative, huge, zero, fractional) or a wrong type
  (r, p, a) => {
    const n = numericLeaves(r);
    set(r, n[p % n.length]!, VALUES[a % VALUES.length]!);
  },
  // any field replaced or removed
  (r, p, a) => {
    const l = leaves(r);
    set(r, l[p % l.length]!, a % 3 === 0 ? undefined : VALUES[a % VALUES.length]!);
  },
  // schema version
  (r, _p, a) => set(r, ['schema'], ['svcbench/run@2', 'svcbench/run@0', 1, null, ''][a % 5]!),
  // cases missing, removed, or only a few
  (r, p) => {
    const cases = get(r, ['cases']) as Json[];
    set(r, ['cases'], p % 3 === 0 ? [] : cases.filter((_, i) => i % ((p % 7) + 2) === 0));
  },
  // every case of a state turned into another one (or an unknown one)
  (r, _p, a) => {
    const states = ['completed', 'errored', 'skipped', 'aborted', 'unknown'];
    for (const c of get(r, ['cases']) as Record<string, Json>[]) if (c.state === 'completed') c.state = states[a % states.length]!;
  },
  // every case's operations zero, or every latency negative
  (r, _p, a) => {
    for (const c of get(r, ['cases']) as Record<string, Record<string, Json>>[])
      if (c.result) {
        if (a % 2 === 0) c.result.ops = 0;
        else (c.result.latencyUs as Record<string, Json>).p50 = -5;
      }
  },
  // a histogram that does not decode
  (r, p) => {
    const cases = (get(r, ['cases']) as Record<string, Record<string, Record<string, Json>>>[]).filter((c) => c.result);
    const c = cases[p % cases.length];
    if (c) c.result!.latencyUs!.histogram = ['', 'not base64!', 'AAAA', 'HISTFAAAA'][p % 4]!;
  },
  // duplicate cases, or the same case id twice with different figures
  (r) => {
    const cases = get(r, ['cases']) as Json[];
    set(r, ['cases'], [...cases, ...cases.slice(0, 5)]);
  },
  // a state of the run, or of a backend, that the schema does not know
  (r, _p, a) => set(r, a % 2 === 0 ? ['state'] : ['backends', 0, 'state'], 'exploded'),
  // syncs with negative or NaN times, services 0
  (r, p) => {
    for (const s of get(r, ['syncs']) as Record<string, Json>[]) {
      s.totalMs = p % 2 === 0 ? -1 : NAN;
      s.services = 0;
    }
  },
];

/** `arb` once in `n` times, else null. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

export interface RunJsonInput {
  /** run.json's text, or undefined for a directory named run.json. */
  text: string | undefined;
  /** Which run is damaged: report renders it; compare puts it first, second, or both. */
  command: 'report' | 'compare-a' | 'compare-b' | 'compare-both';
  flags: string[];
}

export const runJsonInput: fc.Arbitrary<RunJsonInput> = fc
  .record({
    damage: fc.array(fc.tuple(fc.nat(DAMAGE.length - 1), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
    checksum: fc.constantFrom('after', 'after', 'before', 'none'),
    cut: rarely(fc.double({ min: 0, max: 1, noNaN: true }), 5),
    special: rarely(fc.constantFrom('empty', 'binary', 'directory', 'deep', 'array', 'huge-number-text'), 8),
    command: fc.constantFrom('report', 'compare-a', 'compare-b', 'compare-both'),
    flags: fc.constantFrom<string[]>([], ['--json'], ['--fail-on-regression', '10']),
  })
  .map((r): RunJsonInput => {
    const flags = r.command === 'report' ? r.flags.filter((f) => f === '--json') : r.flags;
    const mk = (text: string | undefined): RunJsonInput => ({ text, command: r.command, flags });
    if (r.special === 'empty') return mk('');
    if (r.special === 'binary') return mk('\u0000\u00ff\ufffd{"schema"');
    if (r.special === 'directory') return mk(undefined);
    if (r.special === 'deep') return mk(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    if (r.special === 'array') return mk('[]');
    const run = base();
    const undamaged = runFileText(run as object);
    for (const [d, p, a] of r.damage) {
      try {
        DAMAGE[d]!(run, p, a);
      } catch {
        // A damage that no longer fits what an earlier one left (a field turned into a string,
        // cases removed) leaves the document as it is: the harness's error, not the product's.
      }
    }
    if (r.special === 'huge-number-text') set(run, ['seed'], '__HUGE__');
    let text = r.checksum === 'after' ? runFileText(run as object) : JSON.stringify(run, null, 1);
    if (r.checksum === 'before')
      text = `${text.trimEnd().slice(0, -1)},"contentSha256":${JSON.stringify((JSON.parse(undamaged) as { contentSha256: string }).contentSha256)}}`;
    text = text.replaceAll(`"${NAN}"`, 'NaN').replaceAll(`"${INF}"`, '1e999').replaceAll('"__HUGE__"', '1'.repeat(400));
    if (r.cut !== null) text = text.slice(0, Math.floor(r.cut * text.length));
    return mk(text);
  });
