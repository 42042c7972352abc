import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/sandbox/state.js';
import { BENCH, requireBuild } from '../helpers.js';

// `bench --dry-run clean` and `bench --dry-run down` print what they would remove and touch
// nothing: not the state file, not a recorded process, not a recorded file. (Killing, rmdir and rm
// are direct system calls, which the printing exec did not stop: a dry run removed kept
// sandboxes' state files and killed their processes.) The state directory is a temporary one
// (SVCBENCH_STATE_DIR), so no real run is involved.

const dir = mkdtempSync(join(tmpdir(), 'svcbench-dryclean-'));
const sleeper = execa('sleep', ['300'], { reject: false });
afterAll(() => {
  sleeper.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function keptSandbox(runId: string) {
  const stateDir = join(dir, `state-${runId}`);
  mkdirSync(stateDir);
  const file = join(dir, `${runId}-tmpfile`);
  writeFileSync(file, 'x');
  const stateFile = join(stateDir, `${runId}.json`);
  writeFileSync(
    stateFile,
    JSON.stringify({
      version: 1,
      runId,
      command: 'up',
      // A gone owner (pid 1's start time never matches "0"), as a sandbox kept by bench up.
      owner: { pid: 1, startTime: '0' },
      keep: true,
      createdAt: new Date().toISOString(),
      objects: [
        { kind: 'process', pid: sleeper.pid!, startTime: processStartTime(sleeper.pid!)! },
        { kind: 'file', path: file },
      ],
    }),
  );
  return { stateDir, stateFile, file };
}

describe('--dry-run clean and down change nothing', () => {
  for (const [name, argv] of [
    ['clean', ['--dry-run', 'clean']],
    ['down', ['--dry-run', 'down', 'fzdry1']],
  ] as const)
    it(`bench ${argv.join(' ')}`, async () => {
      requireBuild();
      const runId = name === 'clean' ? 'fzdry0' : 'fzdry1';
      const k = keptSandbox(runId);
      const r = await execa(process.execPath, [BENCH, ...argv], {
        env: { SVCBENCH_STATE_DIR: k.stateDir },
        reject: false,
        stdin: 'ignore',
      });
      expect(r.exitCode, String(r.stderr)).toBe(0);
      expect(r.stderr).toContain(`+ kill -KILL ${sleeper.pid}`);
      expect(r.stderr).toContain(`+ rm -rf ${k.file}`);
      expect(r.stderr).toContain(`+ rm -f ${k.stateFile}`);
      expect(r.stderr).toMatch(new RegExp(`would remove (run|sandbox) ${runId}`));
      expect(existsSync(k.stateFile)).toBe(true);
      expect(existsSync(k.file)).toBe(true);
      expect(processStartTime(sleeper.pid!)).toBeDefined();
    });
});
