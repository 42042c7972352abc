// svcbench statistics: one pure module (DESIGN.md pattern 5). No I/O, no clock, no Math.random;
// every random choice comes from a PRNG seeded by the caller and recorded in the result.
export * from './descriptive.js';
export * from './prng.js';
export * from './bootstrap.js';
export * from './outliers.js';
export * from './compare.js';
export * from './warnings.js';
export * from './summarize.js';
export * from './chisquare.js';
export * from './growth.js';
export * from './paired.js';
export * from './pooled.js';
