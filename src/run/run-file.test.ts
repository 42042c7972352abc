import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunWriter, readRunChecked, runSchema, type RunJson } from './results.js';
import { CHECKSUM_FIELD, RunFileError, contentChecksum, parseRunFile, runFileText } from './run-file.js';
import { tempDirs } from '../../test/temp-dirs.js';

const newDir = tempDirs('svcbench-runfile-');

const fixture = (): RunJson =>
  runSchema.parse(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'report', 'testdata', 'run', 'run.json'), 'utf8')));

describe('run.json checksum', () => {
  it('verifies what it wrote, also re-indented', () => {
    const text = runFileText(fixture());
    expect(parseRunFile(text, 'f').checksum).toBe('verified');
    const reindented = JSON.stringify(JSON.parse(text), null, 4);
    expect(parseRunFile(reindented, 'f').checksum).toBe('verified');
  });

  it('puts the checksum last, over every other field', () => {
    const value = JSON.parse(runFileText(fixture())) as Record<string, unknown>;
    expect(Object.keys(value).at(-1)).toBe(CHECKSUM_FIELD);
    expect(value[CHECKSUM_FIELD]).toBe(contentChecksum(value));
    expect(value[CHECKSUM_FIELD]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes NaN as JSON writes it (null), so a run with a NaN still verifies', () => {
    const run = fixture();
    run.seed = Number.NaN;
    expect(parseRunFile(runFileText(run), 'f').checksum).toBe('verified');
  });

  it('tells an edited file (mismatch) from a cut one (torn)', () => {
    const text = runFileText(fixture());
    const edited = text.replace(/"ops": (\d+)/, (_m, n: string) => `"ops": ${Number(n) + 1}`);
    expect(edited).not.toBe(text);
    expect(() => parseRunFile(edited, 'x/run.json')).toThrow(RunFileError);
    expect(() => parseRunFile(edited, 'x/run.json')).toThrow(/x\/run\.json does not match its checksum .*edited after svcbench wrote it/);
    const cut = text.slice(0, Math.floor(text.length / 2));
    expect(() => parseRunFile(cut, 'x/run.json')).toThrow(/x\/run\.json is not complete JSON .*cut short/);
    try {
      parseRunFile(cut, 'f');
    } catch (e) {
      expect((e as RunFileError).problem).toBe('torn');
    }
  });

  it('a checksum that is not a string is a mismatch, not a crash', () => {
    const value = JSON.parse(runFileText(fixture())) as Record<string, unknown>;
    for (const bad of [null, 1, [], {}]) {
      value[CHECKSUM_FIELD] = bad;
      expect(() => parseRunFile(JSON.stringify(value), 'f')).toThrow(/does not match its checksum/);
    }
  });

  it('accepts a file without a checksum as unverified', () => {
    expect(parseRunFile(JSON.stringify(fixture()), 'f').checksum).toBe('absent');
    expect(parseRunFile('[1]', 'f').checksum).toBe('absent');
  });
});

describe('RunWriter', () => {
  it('writes run.json with its checksum, leaves no temporary file, and reads back verified', async () => {
    const root = newDir();
    const run = fixture();
    const w = new RunWriter(root, run);
    await w.init();
    run.cases = run.cases.slice(0, 3);
    await w.flush();
    expect(readdirSync(w.dir)).toEqual(['run.json']);
    const back = await readRunChecked(w.dir);
    expect(back.checksum).toBe('verified');
    expect(back.run.cases).toHaveLength(3);
    writeFileSync(join(w.dir, 'run.json'), readFileSync(join(w.dir, 'run.json'), 'utf8').replace('"completed"', '"aborted"'));
    await expect(readRunChecked(w.dir)).rejects.toThrow(/does not match its checksum/);
  });
});
