import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exec } from '../exec/index.js';
import { newRunId } from './names.js';
import { removeObjects } from './sandbox.js';
import { StateFile, type Recorder, type StateObject } from './state.js';

// A command's own state file for what it makes outside its sandboxes: the temporary file of its
// results' write-then-rename (run-file.ts) and the temporary directories of perf's recordings
// (src/profile/sampler.ts), with the perf processes writing into them. Each is recorded before it
// exists, like every sandbox object (DESIGN.md, safety rules), so `bench clean` removes them after
// a SIGKILL at any moment (a live owner's file it leaves alone), and close() removes them at the end.

export interface CommandRecord extends Recorder {
  /** The state file's id, a run id (names.ts). */
  readonly id: string;
  /** A new directory under the system's temporary directory, named after the record and recorded
   * before it is made. */
  tempDir(prefix: string): Promise<string>;
  /** Removes whatever recorded object is left, then the state file. */
  close(): Promise<void>;
}

export async function openCommandRecord(exec: Exec, command: string, id = newRunId()): Promise<CommandRecord> {
  const state = await exec.alter<StateFile | undefined>(
    () => StateFile.create(id, command),
    () => undefined,
  );
  // --dry-run: nothing is created, and the record stays in memory.
  const kept: StateObject[] = [];
  const record = async (objects: StateObject[]): Promise<void> => {
    if (state) await state.record(objects);
    else kept.push(...objects);
  };
  let made = 0;
  return {
    id,
    record,
    async tempDir(prefix) {
      const path = join(tmpdir(), `svcbench-${prefix}-${id}-${++made}`);
      await record([{ kind: 'file', path }]);
      await exec.alter(
        async () => void (await mkdir(path, { mode: 0o700 })),
        () => undefined,
      );
      return path;
    },
    async close() {
      if (!state) return;
      await removeObjects(exec, state.data.objects);
      await state.remove();
    },
  };
}
