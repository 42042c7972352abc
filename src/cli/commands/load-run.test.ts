import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeExec } from '../../exec/index.js';
import { runFileText } from '../../run/run-file.js';
import { runCli } from '../program.js';

// bench report and bench compare verify run.json's checksum (src/run/run-file.ts): a torn or
// edited file exits 1 naming the file and what to do; a file without a checksum reads with a note.

const FIXTURE = join(import.meta.dirname, '..', '..', 'report', 'testdata', 'run');

async function cli(argv: string[]) {
  let stdout = '';
  const stderr: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const code = await runCli(argv, { io, contextFor: () => ({ exec: new FakeExec(), ...io }) });
  return { code, stdout, stderr: stderr.join('\n') };
}

const tmp = mkdtempSync(join(tmpdir(), 'svcbench-loadrun-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the fixture run whose run.json is `text` (default: with its checksum). */
function runDir(name: string, text?: (withChecksum: string) => string): string {
  const dir = join(tmp, name);
  cpSync(FIXTURE, dir, { recursive: true });
  const withChecksum = runFileText(JSON.parse(readFileSync(join(FIXTURE, 'run.json'), 'utf8')) as object);
  writeFileSync(join(dir, 'run.json'), text ? text(withChecksum) : withChecksum);
  return dir;
}

describe('run.json integrity in bench report and bench compare', () => {
  it('a verified run compares without a note', async () => {
    const dir = runDir('ok');
    const r = await cli(['compare', dir, dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/note:|checksum/);
  });

  it('an old run without a checksum is accepted with a note', async () => {
    const r = await cli(['compare', FIXTURE, FIXTURE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/note: RUN_A: .*run\.json has no checksum .*read unverified/);
    expect(r.stderr).toMatch(/note: RUN_B: /);
  });

  it('an edited run exits 1 naming the file and what to do', async () => {
    const dir = runDir('edited', (t) => t.replace(/"ops": (\d+)/, '"ops": 1$1'));
    for (const argv of [
      ['compare', FIXTURE, dir],
      ['report', dir],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${join(dir, 'run.json')} does not match its checksum`);
      expect(r.stderr).toMatch(/restore the original, or delete the "contentSha256" field/);
      expect(r.stdout).toBe('');
    }
  });

  it('a torn run exits 1 and says it was cut short', async () => {
    const dir = runDir('torn', (t) => t.slice(0, 5000));
    const r = await cli(['compare', dir, FIXTURE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RUN_A: .*torn\/run\.json is not complete JSON .*cut short/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
