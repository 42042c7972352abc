import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { DryRunExec, FakeExec } from '../../src/exec/index.js';

// Inputs the fuzzer (test/faults/fuzz) found mishandled, kept as regression cases: each exits 1
// or 2 with a message naming the field, no stack trace, and runs no command.

async function cli(argv: string[]) {
  const exec = new FakeExec();
  let stdout = '';
  const stderr: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const code = await runCli(argv, { io, contextFor: () => ({ exec, ...io }) });
  return { code, stdout, stderr: stderr.join('\n'), commands: exec.commands };
}

const dir = mkdtempSync(join(tmpdir(), 'svcbench-found-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const STACK = /^\s+at .+:\d+:\d+\)?$|unexpected error/m;

describe('scenario files the fuzzer found', () => {
  const aliasBomb = [
    'a: &a [x, x, x, x, x, x, x, x, x, x]',
    ...Array.from(
      { length: 12 },
      (_, i) =>
        `l${i + 1}: &l${i + 1} [${Array(10)
          .fill(i === 0 ? '*a' : `*l${i}`)
          .join(', ')}]`,
    ),
    'services: [{name: web, ports: [{port: 80}]}]',
  ].join('\n');
  // Two documents whose flow sequences nest 1,000 deep: yaml 2.9 aborted the process (SIGABRT in
  // V8's regexp compiler) while reporting the second document; fuzz seed 920878 found it.
  const deepDoc = `{"services": [{"name": "web", "ports": ${'['.repeat(1000)}1${']'.repeat(1000)}}]}`;
  const cases: [string, string, number, RegExp][] = [
    [
      'a deeply nested file (yaml aborted the process)',
      `${deepDoc}\n---\n${deepDoc}`,
      2,
      /deeply\.yaml: nests \[ \] or \{ \} more than 64 levels deep/,
    ],
    ['an alias bomb (yaml stops at its alias count)', aliasBomb, 2, /alias\.yaml: cannot be read as YAML: Excessive alias count/],
    [
      'an endpoint beyond the largest sandbox (was reported as --pods)',
      'services: [{name: web, ports: [{port: 80}], endpoints: [srv-1000]}]',
      2,
      /endpoint\.yaml: services\[0\]\.endpoints\[0\]: names srv-1000, beyond the largest sandbox \(1000 server pods: srv-0 … srv-999\)/,
    ],
    [
      "too few pods in the file's own sandbox section (was reported as --pods)",
      'sandbox: {pods: 4}\nservices: [{name: web, ports: [{port: 80}], endpoints: [srv-999]}]',
      2,
      /few\.yaml: sandbox\.pods: the scenario's endpoints name srv-999, so at least 1000 pods are needed \(got 4\)/,
    ],
  ];
  it.each(cases)('%s', async (name, text, code, message) => {
    const r = await cli(['up', '--scenario', file(`${name.split(' ')[1]}.yaml`, text)]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK);
    expect(r.commands).toEqual([]);
  });
});

describe('command lines the fuzzer found', () => {
  it('verify whose spread probe got no answer at all (here --dry-run: none ran) fails the check instead of throwing', async () => {
    // The dry-run exec (the FakeExec would read the rules back and fail on its empty canned answer).
    const stderr: string[] = [];
    const io = { out: () => undefined, say: (l: string) => void stderr.push(l) };
    const code = await runCli(['verify', '--backend', 'nft'], { io, contextFor: () => ({ exec: new DryRunExec(() => {}), ...io }) });
    const r = { code, stderr: stderr.join('\n') };
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spread over 3 endpoints\s+FAIL\s+300 connections, none answered by an endpoint/);
    expect(r.stderr).not.toMatch(STACK);
  });
});

describe('--dry-run creates nothing', () => {
  it('bench --dry-run report RUN renders and lists the reports without writing them', async () => {
    const run = join(dir, 'run');
    cpSync(join(import.meta.dirname, '..', '..', 'src', 'report', 'testdata', 'run'), run, { recursive: true });
    // The CLI's own context: --dry-run picks the dry-run exec, which lists instead of writing.
    let stdout = '';
    const stderr: string[] = [];
    const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
    const code = await runCli(['--dry-run', 'report', run], { io });
    const r = { code, stdout, stderr: stderr.join('\n') };
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(run, 'report.html'));
    expect(r.stderr).toMatch(/reports rendered, not written \(--dry-run\)/);
    expect(readdirSync(run)).toEqual(['run.json']);
  });
});

describe('run.json files the fuzzer found', () => {
  it('bench compare with a run whose cases did 0 operations: those rows have no ratio, the command does not crash', async () => {
    const fixture = join(import.meta.dirname, '..', '..', 'src', 'report', 'testdata', 'run');
    const zero = join(dir, 'zero-ops');
    mkdirSync(zero);
    const run = JSON.parse(readFileSync(join(fixture, 'run.json'), 'utf8')) as { cases: { result?: { ops: number } }[] };
    for (const c of run.cases) if (c.result) c.result.ops = 0;
    writeFileSync(join(zero, 'run.json'), JSON.stringify(run));
    for (const argv of [
      ['compare', zero, fixture],
      ['compare', zero, zero, '--fail-on-regression', '10'],
    ]) {
      const r = await cli(argv);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/no ratio \(ratio of (the samples|a resample) is (Infinity|NaN)/);
    }
  });
});
