import { describe, expect, it } from 'vitest';
import { FakeExec, type Command, type Responder } from '../../src/exec/index.js';
import { BenchError } from '../../src/errors.js';
import { cfg, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import type { NodeTarget } from '../types.js';
import { iptablesRestore } from './backend.js';

// apply against the fake exec: one restore per sync, and the filter table put back only when a
// rejection came after iptables-restore had committed it.

const target = (exec: FakeExec): NodeTarget => ({
  exec,
  netns: 'node',
  cfg,
  options: { iptablesMode: 'legacy', syncTimeoutMs: 20_000 },
});
const restores = (cmds: Command[]): Command[] => cmds.filter((c) => c.argv[0] === 'iptables-legacy-restore');
/** Fails the first restore with `stderr` (exit 1), answers everything else. */
const failFirstRestore = (stderr: string): Responder => {
  let failed = false;
  return (c) => {
    if (c.argv[0] !== 'iptables-legacy-restore' || failed) return undefined;
    failed = true;
    return { exitCode: 1, stderr };
  };
};

describe('apply', () => {
  it('sends one iptables-restore --noflush --counters of the payload, filter first, no --test pass', async () => {
    const exec = new FakeExec();
    const rendered = iptablesRestore.render(smallState, smallStateNext, cfg, target(exec).options);
    const applied = await iptablesRestore.apply(target(exec), rendered);
    const r = restores(exec.commands);
    expect(r.map((c) => c.argv)).toEqual([['iptables-legacy-restore', '-w', '--noflush', '--counters']]);
    expect(r[0]!.stdin).toBe(rendered.payload.payload);
    expect(rendered.payload.payload.startsWith('*filter\n')).toBe(true);
    expect(applied.commands).toBe(1); // a partial sync ensures no jumps
    expect(applied.commitAt).toBeTypeOf('number');
  });

  it('a rejection in the nat section: the filter table is put back, then the error names the line', async () => {
    const rendered = iptablesRestore.render(smallState, smallStateNext, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 20_000 });
    const lines = rendered.payload.payload.split('\n');
    const bad = lines.findIndex((l, i) => i >= rendered.payload.filterLines && l.startsWith('-A KUBE-SVC-')) + 1;
    const exec = new FakeExec(failFirstRestore(`iptables-restore: line ${bad} failed\n`));
    const err = await iptablesRestore.apply(target(exec), rendered).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BenchError);
    expect((err as Error).message).toContain(`at line ${bad}: ${lines[bad - 1]}`);
    expect((err as BenchError).hint).toMatch(/put back/);
    const r = restores(exec.commands);
    expect(r.map((c) => c.argv)).toEqual([
      ['iptables-legacy-restore', '-w', '--noflush', '--counters'],
      ['iptables-legacy-restore', '-w', '--noflush'],
    ]);
    expect(r[1]!.stdin).toBe(rendered.payload.filterRollback);
    expect(rendered.payload.filterRollback).toBe(
      iptablesRestore.render(undefined, smallState, cfg, target(exec).options).payload.payload.split('*nat\n')[0],
    );
  });

  it('a rejection in the filter section (its COMMIT included) commits nothing: no put-back', async () => {
    const rendered = iptablesRestore.render(smallState, smallStateNext, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 20_000 });
    for (const line of [2, rendered.payload.filterLines]) {
      const exec = new FakeExec(failFirstRestore(`iptables-restore: line ${line} failed\n`));
      const err = await iptablesRestore.apply(target(exec), rendered).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BenchError);
      expect((err as BenchError).hint).toMatch(/unchanged/);
      expect(restores(exec.commands)).toHaveLength(1);
    }
  });

  it('a failure that names no line is put back too (the filter table may have committed)', async () => {
    const rendered = iptablesRestore.render(undefined, smallState, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 20_000 });
    const exec = new FakeExec(failFirstRestore('iptables-restore: something went wrong\n'));
    await expect(iptablesRestore.apply(target(exec), rendered)).rejects.toThrow(/rejected the transaction/);
    const r = restores(exec.commands);
    expect(r).toHaveLength(2);
    // A full sync goes back to our filter chains empty, as its jump step left them.
    expect(r[1]!.stdin).toMatch(/^\*filter\n(:KUBE-[A-Z-]+ - \[0:0\]\n)+COMMIT\n$/);
  });

  it('a put-back that fails says the filter table stayed committed', async () => {
    const rendered = iptablesRestore.render(smallState, smallStateNext, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 20_000 });
    const exec = new FakeExec((c) =>
      c.argv[0] === 'iptables-legacy-restore' ? { exitCode: 1, stderr: 'iptables-restore: line 999999 failed\n' } : undefined,
    );
    const err = (await iptablesRestore.apply(target(exec), rendered).catch((e: unknown) => e)) as BenchError;
    expect(err.hint).toMatch(/stayed committed/);
  });
});
