// The built CLI (test/built.ts) and the root-namespace snapshot (test/root-snapshot.ts) for the
// random-kill campaign, without vitest: scripts/random-kill.ts runs outside it.

export { BENCH, bench, requireBuild } from '../../built.js';
export { rootSnapshot } from '../../root-snapshot.js';
