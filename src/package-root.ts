import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// svcbench's own files (the probe and workload programs it runs by path, the BPF object,
// package.json) are found from the package root, never from a module's own URL: in the bundled CLI
// (dist/bench.mjs) every module's import.meta.url is the bundle's. The root is the first directory
// holding a package.json above this module, whichever of src/ (vitest), dist/src/ or dist/ it runs from.

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const PACKAGE_ROOT = findRoot();

/** A path under the package root, e.g. fromRoot('dist/src/probe/connect.js'). */
export const fromRoot = (relative: string): string => join(PACKAGE_ROOT, relative);
