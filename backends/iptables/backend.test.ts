import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { FakeExec, type Command } from '../../src/exec/index.js';
import { cfg, smallState } from '../../src/model/test-support/states.js';
import type { NodeTarget } from '../types.js';
import { iptables } from './backend.js';

// The rule-by-rule apply against the fake exec, each iptables command taking `ms` on a clock the
// test drives, to see where the time budget (--sync-timeout) stops it.

function slow(ms: number, syncTimeoutMs: number) {
  let now = 0;
  const clock: Clock = { now: () => now, sleep: async (d) => void (now += d) };
  const exec = new FakeExec(undefined, (c) => {
    if (c.argv[0] === 'iptables-legacy') now += ms;
  });
  const target: NodeTarget = { exec, netns: 'node', cfg, options: { iptablesMode: 'legacy', syncTimeoutMs }, clock };
  return { exec, target, elapsed: () => now };
}

describe('rule-by-rule apply and its time budget', () => {
  const rendered = iptables.render(undefined, smallState, cfg, { iptablesMode: 'legacy', syncTimeoutMs: 0 });
  const total = rendered.payload.commands.length;

  it('stops as soon as the pace so far needs more than the budget, and says what it projected', async () => {
    // 2 ms a command: the whole sync needs ≈2·total ms, over a budget of a quarter of that.
    const budget = Math.round((2 * total) / 4);
    const { target, elapsed } = slow(2, budget);
    const applied = await iptables.apply(target, rendered);
    expect(applied.exceeded).toBeDefined();
    const ex = applied.exceeded!;
    expect(ex.total).toBe(total);
    expect(ex.projectedMs).toBeGreaterThan(budget);
    // It trusts the pace after a tenth of the budget, so it stops long before the budget itself.
    expect(ex.done).toBeLessThan(total / 4);
    expect(elapsed()).toBe(2 * ex.done);
    expect(elapsed()).toBeLessThan(budget);
    expect(applied.commands).toBe(ex.done);
  });

  it('a sync whose pace fits runs every command and then ensures the jumps', async () => {
    const { exec, target } = slow(0.2, 60_000);
    const applied = await iptables.apply(target, rendered);
    expect(applied.exceeded).toBeUndefined();
    expect(exec.commands.filter((c) => c.argv[0] === 'iptables-legacy').length).toBeGreaterThanOrEqual(total);
    expect(applied.commands).toBeGreaterThan(total);
  });

  it('a full sync onto chains a previous instance left (a restart) flushes each existing chain instead of failing on -N', async () => {
    const exists = (c: Pick<Command, 'argv'>) => c.argv.includes('-N') && c.argv.includes('KUBE-SERVICES');
    const exec = new FakeExec((c) => (exists(c) ? { exitCode: 1, stderr: 'iptables: Chain already exists.' } : undefined));
    const target: NodeTarget = { exec, netns: 'node', cfg, options: { iptablesMode: 'legacy', syncTimeoutMs: 60_000 } };
    const applied = await iptables.apply(target, rendered);
    expect(applied.exceeded).toBeUndefined();
    // The sync's own -N (the jumps after it create their chains tolerantly, allowFailure).
    const created = exec.commands.findIndex(exists);
    expect(created).toBeGreaterThanOrEqual(0);
    expect(exec.commands[created + 1]!.argv).toEqual(exec.commands[created]!.argv.map((a) => (a === '-N' ? '-F' : a)));
    // Any other failure still fails the sync.
    const broken = new FakeExec((c) =>
      c.argv.includes('-A') ? { exitCode: 4, stderr: 'iptables: Resource temporarily unavailable.' } : undefined,
    );
    await expect(iptables.apply({ ...target, exec: broken }, rendered)).rejects.toThrow(/Resource temporarily unavailable/);
  });
});
