import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useStateDir } from '../state-dir.js';
import { FakeExec } from '../../src/exec/index.js';

// bench clean while other runs are live (issue 19 item 3): a run's state file being written at
// that moment (its temporary file, not yet complete JSON) belongs to a live process and must be
// left alone (removing it made that run's rename fail); the same file of a dead writer is removed.
// Against a recording exec and a temporary state directory: nothing real is removed.

const stateDir = mkdtempSync(join(tmpdir(), 'svcbench-cleanlive-'));
useStateDir(stateDir);
const { clean } = await import('../../src/sandbox/clean.js');
const { tempFileWriter } = await import('../../src/sandbox/state.js');

const live = execa('sleep', ['300'], { reject: false });
afterAll(() => {
  live.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('bench clean and state files being written', () => {
  it('names the writer of a temporary state file', () => {
    expect(tempFileWriter('ab12cd.json.4242.tmp')).toEqual({ runId: 'ab12cd', pid: 4242 });
    expect(tempFileWriter('ab12cd.json.tmp')).toBeUndefined();
    expect(tempFileWriter('ab12cd.json')).toBeUndefined();
  });

  it("leaves a live writer's half-written state file, removes a dead writer's", async () => {
    const liveTmp = join(stateDir, `aaaaaa.json.${live.pid}.tmp`);
    const deadTmp = join(stateDir, 'bbbbbb.json.999999999.tmp');
    writeFileSync(liveTmp, '{"version":1,"runId":"aaa');
    writeFileSync(deadTmp, '{"version":1,"runId":"bbb');
    const exec = new FakeExec();
    await clean(exec);
    const rms = exec.commands.filter((c) => c.argv[0] === 'rm').map((c) => c.argv.at(-1));
    expect(rms).toContain(deadTmp);
    expect(rms).not.toContain(liveTmp);
  });
});
