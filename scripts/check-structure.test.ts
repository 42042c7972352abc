import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkStructure, dryRunMentions, longFunctions, MAX_FUNCTION_LINES } from './check-structure.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

function fn(name: string, bodyLines: number, line = (i: number) => `  x += ${i};`): string {
  // The declaration line, bodyLines lines, the closing brace: bodyLines + 2 lines in all.
  return [`function ${name}() {`, ...Array.from({ length: bodyLines }, (_, i) => line(i)), '}'].join('\n');
}

describe('check-structure', () => {
  it(`finds no function over ${MAX_FUNCTION_LINES} lines in src/ and backends/ (pure data tables aside)`, () => {
    const failing = checkStructure(root);
    expect(failing.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines} lines): split it into named steps`)).toEqual([]);
  });

  it('names dryRun only in the CLI flag: everything else goes through the exec port (the dry-run exec)', () => {
    expect(dryRunMentions(root)).toEqual([]);
  });

  it('counts a function from its first to its last line, nested functions on their own', () => {
    expect(longFunctions('a.ts', fn('fits', MAX_FUNCTION_LINES - 2))).toEqual([]);
    expect(longFunctions('a.ts', fn('long', MAX_FUNCTION_LINES - 1))).toEqual([
      { file: 'a.ts', name: 'long', line: 1, lines: MAX_FUNCTION_LINES + 1 },
    ]);
    const nested = ['export function outer() {', '  return [1].map((v) => {', ...Array(90).fill('    v++;'), '  });', '}'].join('\n');
    expect(longFunctions('b.ts', nested).map((f) => f.name)).toEqual(['outer', '<anonymous> in outer']);
    const method = ['class K {', `  ${fn('m', 90).replace('function ', '')}`, '}'].join('\n');
    expect(longFunctions('c.ts', method).map((f) => f.name)).toEqual(['m']);
  });

  it('exempts a function that only returns a literal of literals and named constants', () => {
    const table = fn('table', 90, (i) =>
      i === 0 ? '  return [' : i === 89 ? '  ];' : `    { name: 'r${i}', n: -${i}, k: K.x, ok: true },`,
    );
    expect(longFunctions('t.ts', table)).toEqual([]);
    const computed = fn('computed', 90, (i) => (i === 0 ? '  return [' : i === 89 ? '  ];' : `    { name: 'r${i}', n: f(${i}) },`));
    expect(longFunctions('t.ts', computed).map((f) => f.name)).toEqual(['computed']);
    const withStatement = fn('withStatement', 90, (i) => (i === 0 ? '  const k = 1; return [' : i === 89 ? '  ];' : `    ${i},`));
    expect(longFunctions('t.ts', withStatement).map((f) => f.name)).toEqual(['withStatement']);
  });
});
