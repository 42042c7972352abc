import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withDescendants } from './procs.js';

describe('withDescendants', () => {
  it('finds the children and grandchildren of a process (perf record and its sleep)', async () => {
    // sh → sh → sleep: the inner shell's sleep is a grandchild of the outer one.
    const outer = spawn('sh', ['-c', 'sh -c "sleep 30 & wait" & wait'], { stdio: 'ignore' });
    try {
      const commsOf = (pids: number[]) => pids.map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim()).sort();
      // Until the grandchild has exec'd sleep: forked, it is still an sh for a moment.
      let found: number[] = [];
      for (let i = 0; i < 100 && !(found.length === 3 && commsOf(found).includes('sleep')); i++) {
        await new Promise((r) => setTimeout(r, 20));
        found = withDescendants([outer.pid!]);
      }
      expect(commsOf(found)).toEqual(['sh', 'sh', 'sleep']);
      expect(found[0]).toBe(outer.pid);
      expect(withDescendants([])).toEqual([]);
    } finally {
      for (const p of withDescendants([outer.pid!]).reverse()) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  });
});
