// Structure check (issue 17): no function longer than MAX_FUNCTION_LINES in src/ and backends/,
// except pure tables of data. Run by scripts/check-structure.test.ts (so a failing check fails the
// vitest suite, and CI with it) and by hand: `node dist/scripts/check-structure.js` lists offenders.
//
// What counts as a function: every function declaration, function expression, arrow function,
// method, constructor and accessor that has a body, nested ones included (a long callback inside a
// short function is an offender of its own). Its length is the number of lines from the line of its
// first token (the `function` keyword, the method name, the arrow's parameters) to the line of its
// last token, comments and blank lines included, as a reader scrolls it.
//
// Pure data tables are decided from the syntax, not from a hand list: a function is exempt when its
// body is nothing but one returned (or arrow-bodied) literal whose every leaf is a literal (string,
// number, boolean, null, a template without substitutions, a negative number), an identifier or a
// property access (a named constant), nested in array and object literals, optionally with `as` or
// `satisfies`. Anything that computes (a call, an operator, a condition, a spread of a call) makes it
// code, and code is split.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_FUNCTION_LINES = 80;
export const CHECKED_FOLDERS = ['src', 'backends'];

export interface LongFunction {
  file: string; // relative to the repository root, with '/'
  name: string;
  line: number; // 1-based first line
  lines: number;
}

/** Every .ts file (tests and declaration files excluded) under the given folders. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts') && !entry.endsWith('.d.ts')) {
        out.push(path);
      }
    }
  };
  for (const folder of folders) walk(join(root, folder));
  return out;
}

function isLeaf(node: ts.Expression): boolean {
  switch (node.kind) {
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NumericLiteral:
    case ts.SyntaxKind.BigIntLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
    case ts.SyntaxKind.TrueKeyword:
    case ts.SyntaxKind.FalseKeyword:
    case ts.SyntaxKind.NullKeyword:
    case ts.SyntaxKind.Identifier:
      return true;
    case ts.SyntaxKind.PropertyAccessExpression:
      return isLeaf((node as ts.PropertyAccessExpression).expression);
    case ts.SyntaxKind.PrefixUnaryExpression: {
      const unary = node as ts.PrefixUnaryExpression;
      return unary.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(unary.operand);
    }
    default:
      return false;
  }
}

/** A literal built only of literals, named constants, arrays and objects. */
export function isPureData(node: ts.Expression): boolean {
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    return isPureData(node.expression);
  }
  if (ts.isArrayLiteralExpression(node)) return node.elements.every((e) => isPureData(e));
  if (ts.isObjectLiteralExpression(node)) {
    return node.properties.every(
      (p) =>
        (ts.isPropertyAssignment(p) && !ts.isComputedPropertyName(p.name) && isPureData(p.initializer)) ||
        ts.isShorthandPropertyAssignment(p),
    );
  }
  return isLeaf(node);
}

/** A function whose whole body is one returned pure-data literal. */
export function isDataTable(fn: ts.FunctionLikeDeclaration): boolean {
  const body = fn.body;
  if (!body) return false;
  if (!ts.isBlock(body)) return isPureData(body);
  if (body.statements.length !== 1) return false;
  const only = body.statements[0]!;
  return ts.isReturnStatement(only) && only.expression !== undefined && isPureData(only.expression);
}

function functionName(fn: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (fn.name) return fn.name.getText(sf);
  if (ts.isConstructorDeclaration(fn)) return 'constructor';
  // An anonymous function takes the name it is bound to, else "<anonymous> in <enclosing>".
  const parent = fn.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(sf);
  }
  let outer: ts.Node | undefined = parent;
  while (outer && !(ts.isFunctionLike(outer) && (outer as ts.FunctionLikeDeclaration).name)) outer = outer.parent;
  const outerName = outer ? (outer as ts.FunctionLikeDeclaration).name!.getText(sf) : 'module';
  return `<anonymous> in ${outerName}`;
}

/** Every function of one source text longer than `max` lines that is not a pure data table. */
export function longFunctions(file: string, text: string, max = MAX_FUNCTION_LINES): LongFunction[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(fn.getEnd()).line;
      const lines = last - first + 1;
      if (lines > max && !isDataTable(fn)) {
        found.push({ file, name: functionName(fn, sf), line: first + 1, lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** All long functions of the checked folders under `root`. */
export function checkStructure(root: string): LongFunction[] {
  return sourceFiles(root, CHECKED_FOLDERS).flatMap((path) =>
    longFunctions(relative(root, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
}

/** Where `--dry-run` may be known by name (issue 17: "a fake is not a mode", DESIGN.md §15): the CLI's
 * global flag, which picks the dry-run exec. Everywhere else code goes through the exec port and
 * never asks whether it is a dry run. */
export const DRY_RUN_ALLOWED = ['src/cli/context.ts'];

/** Source files (tests aside) of src/, backends/ and workloads/ that name `dryRun` outside
 * DRY_RUN_ALLOWED. */
export function dryRunMentions(root: string): string[] {
  return sourceFiles(root, [...CHECKED_FOLDERS, 'workloads'])
    .map((path) => relative(root, path).split('\\').join('/'))
    .filter((file) => !DRY_RUN_ALLOWED.includes(file) && /\bdryRun\b/.test(readFileSync(join(root, file), 'utf8')));
}

/** The repository root: two levels above dist/scripts/, one above scripts/ when run from source. */
export function repoRoot(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const up = resolve(here, '..');
  return statSync(join(up, 'package.json'), { throwIfNoEntry: false }) ? up : resolve(here, '../..');
}

function main(): void {
  const all = checkStructure(repoRoot());
  for (const fn of all) process.stdout.write(`${fn.file}:${fn.line} ${fn.name}: ${fn.lines} lines\n`);
  process.stderr.write(`check-structure: ${all.length} function(s) over ${MAX_FUNCTION_LINES} lines\n`);
  process.exitCode = all.length > 0 ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
