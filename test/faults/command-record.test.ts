import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { useStateDir } from '../state-dir.js';

// A command's own state file (src/sandbox/command-record.ts): a temporary directory is recorded
// before it is made, and removing the record removes it and kills a process that names it (perf
// recording into it, started before its pid could be recorded). The state directory is a
// temporary one (SVCBENCH_STATE_DIR, read when state.ts loads), so no real run is involved.

const stateDir = mkdtempSync(join(tmpdir(), 'svcbench-record-'));
useStateDir(stateDir);
const { openCommandRecord } = await import('../../src/sandbox/command-record.js');
const { RealExec } = await import('../../src/exec/index.js');
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('command record', () => {
  it('records a temporary directory before making it; close() kills what names it and removes it and the state file', async () => {
    const record = await openCommandRecord(new RealExec(), 'run');
    const stateFile = join(stateDir, `${record.id}.json`);
    const dir = await record.tempDir('recordtest');
    expect(dir).toBe(join(tmpdir(), `svcbench-recordtest-${record.id}-1`));
    expect(existsSync(dir)).toBe(true);
    expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { objects: unknown[] }).objects).toEqual([{ kind: 'file', path: dir }]);
    // As perf record -o DIR/perf.data (the prefix is not perf's: a random-kill campaign running
    // meanwhile would count it): a process whose command line names the directory.
    const wait = ['-e', 'setTimeout(() => {}, 300_000)'];
    const holder = execa(process.execPath, [...wait, `${dir}/perf.data`], { reject: false });
    // A directory whose name only starts with the recorded one is not it.
    const other = execa(process.execPath, [...wait, `${dir}0/perf.data`], { reject: false });
    await new Promise((r) => setTimeout(r, 300));
    await record.close();
    expect((await holder).signal).toBe('SIGKILL');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
    expect(other.exitCode).toBeNull();
    other.kill('SIGKILL');
  });
});
