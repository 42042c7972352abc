import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

// A state file per run under /run/svcbench (tmpfs: it never outlives a reboot, and neither do the
// namespaces it describes). Each object is recorded *before* it is created, so a run killed at any
// point leaves a file that names everything it may have made.

export const STATE_DIR = process.env.SVCBENCH_STATE_DIR ?? '/run/svcbench';

const objectSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('netns'), name: z.string() }),
  z.object({ kind: z.literal('process'), pid: z.number(), startTime: z.string() }),
  z.object({ kind: z.literal('file'), path: z.string() }),
  z.object({ kind: z.literal('cgroup'), path: z.string() }),
  z.object({ kind: z.literal('mount'), path: z.string() }),
]);
export type StateObject = z.infer<typeof objectSchema>;

/** Where objects are recorded before they are created: a StateFile, or nothing in --dry-run. */
export interface Recorder {
  record(objects: StateObject[]): Promise<void>;
}

const stateSchema = z.object({
  version: z.literal(1),
  runId: z.string(),
  command: z.string(),
  owner: z.object({ pid: z.number(), startTime: z.string() }),
  /** A sandbox left on purpose by `bench up`: its owner exits, and it stays until down/clean. */
  keep: z.boolean(),
  createdAt: z.string(),
  objects: z.array(objectSchema),
});
export type RunState = z.infer<typeof stateSchema>;

/** Field 22 of /proc/PID/stat (start time in clock ticks): with the pid it identifies a process
 * across pid reuse. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export const isAlive = (p: { pid: number; startTime: string }): boolean => processStartTime(p.pid) === p.startTime;

/** The run id and writer pid of a state file's temporary file (`<run id>.json.<pid>.tmp`), or
 * undefined for any other name (also the `<run id>.json.tmp` of older builds, which named no writer). */
export function tempFileWriter(name: string): { runId: string; pid: number } | undefined {
  const m = /^([a-z0-9]+)\.json\.(\d+)\.tmp$/.exec(name);
  return m ? { runId: m[1]!, pid: Number(m[2]) } : undefined;
}

export class StateFile {
  private constructor(
    readonly path: string,
    private state: RunState,
  ) {}

  static async create(runId: string, command: string, dir = STATE_DIR): Promise<StateFile> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const f = new StateFile(join(dir, `${runId}.json`), {
      version: 1,
      runId,
      command,
      owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? '' },
      keep: false,
      createdAt: new Date().toISOString(),
      objects: [],
    });
    await f.flush();
    return f;
  }

  get data(): Readonly<RunState> {
    return this.state;
  }

  /** Record objects that are about to be created. */
  async record(objects: StateObject[]): Promise<void> {
    this.state.objects.push(...objects);
    await this.flush();
  }

  async setKeep(keep: boolean): Promise<void> {
    this.state.keep = keep;
    await this.flush();
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  private async flush(): Promise<void> {
    // write-then-rename: a reader (bench clean) never sees a half-written file. The temporary
    // file names its writer (tempFileWriter), so bench clean leaves a live run's alone.
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.state, null, 1));
    await rename(tmp, this.path);
  }

  static async readAll(dir = STATE_DIR): Promise<{ path: string; state?: RunState; error?: string }[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    return Promise.all(
      names
        .filter((n) => n.endsWith('.json') || n.endsWith('.tmp'))
        .map(async (n) => {
          const path = join(dir, n);
          try {
            return { path, state: stateSchema.parse(JSON.parse(await readFile(path, 'utf8'))) };
          } catch (e) {
            return { path, error: (e as Error).message };
          }
        }),
    );
  }
}
