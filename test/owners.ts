import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, processStartTime, STATE_DIR, tempFileWriter } from '../src/sandbox/state.js';

// Whose is a process or a run, when test files run side by side (vitest.config.ts): the e2e
// checks (test/helpers.ts) and the random-kill residue (test/faults/kill/residue.ts, also run by
// scripts/random-kill.ts outside vitest) leave out what another file's live process owns.

/** The parent of `pid` (field 4 of /proc/PID/stat), or undefined once it has gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether live process `pid` belongs to another test file: the e2e files run in forks of the
 * vitest process, two at a time or one beside the files in that process's own threads
 * (vitest.config.ts). So a process whose ancestry reaches the vitest process (this process's
 * parent) without passing through this one is another file's; one under this process is ours, and
 * so is an orphan (reparented to init: a leak, whoever made it). Outside vitest (scripts/
 * random-kill.ts), "another file" is another command of the shell that started this one. A file
 * run alone sees everything, as before. */
export function ownedElsewhere(pid: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOf(p), hops++) {
    if (p === process.pid) return false;
    if (p === process.ppid) return true;
  }
  return false;
}

/** Run ids whose state file (or the temporary file being written) names a live owner that is
 * another test file's process (ownedElsewhere). */
export function othersRuns(): Set<string> {
  const ids = new Set<string>();
  for (const name of stateFilesAll()) {
    const writer = tempFileWriter(name);
    if (writer !== undefined) {
      if (processStartTime(writer.pid) !== undefined && ownedElsewhere(writer.pid)) ids.add(writer.runId);
      continue;
    }
    try {
      const s = JSON.parse(readFileSync(join(STATE_DIR, name), 'utf8')) as { runId: string; owner: { pid: number; startTime: string } };
      if (isAlive(s.owner) && ownedElsewhere(s.owner.pid)) ids.add(s.runId);
    } catch {
      // removed meanwhile, or not yet complete
    }
  }
  return ids;
}

/** The run an entry of the state directory belongs to: `<id>.json`, its `<id>.json.<pid>.tmp` while
 * written, the `<id>-bpffs` mount point. */
export const runIdOfFile = (name: string): string => name.slice(0, 6);

export function stateFilesAll(): string[] {
  return existsSync(STATE_DIR) ? readdirSync(STATE_DIR) : [];
}

/** `list()` less the entries of runs another file's live process owns, whose run `runOf` names.
 * Those runs are read before and after the listing: a run records its state file before it creates
 * anything and removes it after everything else, so an entry listed while the run starts or ends
 * is its in one of the two reads. */
export function withoutOthers(list: () => string[], runOf: (entry: string) => string): string[] {
  const before = othersRuns();
  const entries = list();
  const after = othersRuns();
  return entries.filter((e) => !before.has(runOf(e)) && !after.has(runOf(e))).sort();
}
