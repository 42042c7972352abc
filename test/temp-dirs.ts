import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Temporary directories of a test file, removed once its tests are over (a suite run otherwise
// leaves hundreds under /tmp).

/** Call at the top level of a test file (or describe): returns a function that makes a new
 * directory `prefix`XXXXXX under os.tmpdir(); all it made are removed after the file's tests. */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}
