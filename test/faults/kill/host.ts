import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { execa } from 'execa';

// The built CLI and the root-namespace snapshot for the random-kill campaign, without vitest:
// scripts/random-kill.ts runs outside it (test/helpers.ts imports vitest's hooks). The snapshot is
// test/root-snapshot.ts's, shared with test/helpers.ts.

export const BENCH = resolve('dist/bench.mjs');

export function requireBuild(): void {
  if (!existsSync(BENCH)) throw new Error('dist/ is missing: run `npm run build`');
}

export async function bench(args: string[], opts: { timeoutMs?: number } = {}) {
  const r = await execa(process.execPath, [BENCH, ...args], { reject: false, timeout: opts.timeoutMs ?? 60_000, stdin: 'ignore' });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export { rootSnapshot } from '../../root-snapshot.js';
