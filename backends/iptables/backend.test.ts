import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../src/exec/index.js';
import { cfg, smallState } from '../../src/model/test-support/states.js';
import type { NodeTarget } from '../types.js';
import { iptables } from './backend.js';

// The rule-by-rule apply against the recording exec, each iptables command made to take `ms` of
// wall time (a busy wait), to see where the time budget (--sync-timeout) stops it.

const slowExec = (ms: number) =>
  new FakeExec(undefined, (c) => {
    if (c.argv[0] !== 'iptables-legacy') return;
    const until = performance.now() + ms;
    while (performance.now() < until);
  });
const target = (exec: FakeExec, syncTimeoutMs: number): NodeTarget => ({
  exec,
  netns: 'node',
  cfg,
  options: { iptablesMode: 'legacy', syncTimeoutMs },
});

describe('rule-by-rule apply and its time budget', () => {
  const rendered = iptables.render(undefined, smallState, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 0 });
  const total = rendered.payload.commands.length;

  it('stops as soon as the pace so far needs more than the budget, and says what it projected', async () => {
    // 2 ms a command: the whole sync needs ≈2·total ms, over a budget of a quarter of that.
    const budget = Math.round((2 * total) / 4);
    const exec = slowExec(2);
    const t0 = performance.now();
    const applied = await iptables.apply(target(exec, budget), rendered);
    const took = performance.now() - t0;
    expect(applied.exceeded).toBeDefined();
    const ex = applied.exceeded!;
    expect(ex.total).toBe(total);
    expect(ex.projectedMs).toBeGreaterThan(budget);
    // It trusts the pace after a tenth of the budget, so it stops long before the budget itself.
    expect(ex.done).toBeLessThan(total / 4);
    expect(took).toBeLessThan(budget);
    expect(applied.commands).toBe(ex.done);
  });

  it('a sync whose pace fits runs every command and then ensures the jumps', async () => {
    const exec = slowExec(0.2);
    const applied = await iptables.apply(target(exec, 60_000), rendered);
    expect(applied.exceeded).toBeUndefined();
    expect(exec.commands.filter((c) => c.argv[0] === 'iptables-legacy').length).toBeGreaterThanOrEqual(total);
    expect(applied.commands).toBeGreaterThan(total);
  });
});
