// Import rules checked by `npm run lint:deps` (scripts/test runs it before the test suite).
// Backends stand side by side: each imports its own folder, backends/shared/ (code two or more of
// them use), the top-level backends/*.ts (types, preflight) and src/ below the engine, never
// another backend nor the engine, CLI or reports that drive them.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle (type-only imports included) couples the modules on it and makes load order matter.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-backend-to-backend',
      severity: 'error',
      comment:
        'A backend folder imports only itself and backends/shared/ (and backends/*.ts); code two backends need goes to backends/shared/, which imports no backend folder.',
      from: { path: '^backends/([^/]+)/' },
      to: { path: '^backends/[^/]+/', pathNot: ['^backends/$1/', '^backends/shared/'] },
    },
    {
      name: 'backends-below-engine',
      severity: 'error',
      comment: 'Backends are driven by src/run, src/cli and src/report and never import them.',
      from: { path: '^backends/' },
      to: { path: '^src/(run|cli|report)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve is a typo or a missing file.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
