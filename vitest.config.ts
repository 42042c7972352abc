import { defineConfig } from 'vitest/config';

// Three tiers (DESIGN.md §11): pure units and CLI-against-fake-exec tests run anywhere;
// the e2e tier (test/e2e) needs root and builds real namespaces, so it runs serially.
export default defineConfig({
  test: {
    include: ['{src,backends,workloads,scripts,test}/**/*.test.ts'],
    // The e2e tier builds real namespaces and snapshots the root namespace: files run one at a
    // time so no test sees another's sandbox.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
