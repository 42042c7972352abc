import { describe, expect, it } from 'vitest';
import { runFlagsSchema, runShape, withTiming } from './config.js';

// The flags of `bench run` as the CLI parses them (test/cli covers the exit-2 messages).
const schema = runFlagsSchema(runShape(['nft', 'iptables-restore'], [{ name: 'http', byDefault: true }, { name: 'tcp-rr' }]));

describe('bench run flags: repetitions', () => {
  it('defaults: 3 repetitions, up to 10 while the CI is wider than ±5%', () => {
    const f = withTiming(schema.parse({}), false);
    expect([f.repeat, f.maxRepeat, f.ciTarget]).toEqual([3, 10, 5]);
    expect(withTiming(schema.parse({}), true).repeat).toBe(3);
  });

  it('--profile on with single cases: 10 repetitions of 8 s by default, as given otherwise', () => {
    const f = withTiming(schema.parse({ profile: 'on' }), false);
    expect([f.repeat, f.maxRepeat, f.duration, f.warmup, f.profileHz]).toEqual([10, 10, 8, 0.5, 250]);
    const g = withTiming(schema.parse({ profile: 'on', repeat: '4', duration: '2' }), false);
    expect([g.repeat, g.duration]).toEqual([4, 2]);
    // Paired blocks are not sampled: their own defaults.
    expect(withTiming(schema.parse({ profile: 'on' }), true)).toMatchObject({ repeat: 3, duration: 1 });
  });

  it('parses the strings commander collects; --ci-target 0 (off) and fractions are accepted', () => {
    const f = schema.parse({ repeat: '2', maxRepeat: '4', ciTarget: '0.001' });
    expect([f.repeat, f.maxRepeat, f.ciTarget]).toEqual([2, 4, 0.001]);
    expect(schema.parse({ ciTarget: '0' }).ciTarget).toBe(0);
    expect(schema.parse({ repeat: '10', maxRepeat: '10' }).maxRepeat).toBe(10); // --max-repeat may equal --repeat
    // Without --max-repeat, its default rises to a larger --repeat instead of rejecting it.
    expect(withTiming(schema.parse({ repeat: '14' }), false)).toMatchObject({ repeat: 14, maxRepeat: 14 });
    expect(withTiming(schema.parse({ repeat: '4' }), false)).toMatchObject({ repeat: 4, maxRepeat: 10 });
  });

  it('--max-repeat below --repeat, a negative or non-numeric --ci-target: errors on that flag', () => {
    const issues = (raw: Record<string, unknown>) => schema.safeParse(raw).error?.issues.map((i) => [i.path.join('.'), i.message]) ?? [];
    expect(issues({ repeat: '5', maxRepeat: '4' })).toEqual([['maxRepeat', 'must be at least --repeat (5); got 4']]);
    expect(issues({ maxRepeat: '2' })).toEqual([['maxRepeat', 'must be at least --repeat (3); got 2']]);
    expect(issues({ ciTarget: '-0.5' })).toEqual([['ciTarget', 'must be at least 0 (got -0.5)']]);
    expect(issues({ ciTarget: '101' })).toEqual([['ciTarget', 'must be at most 100 (got 101)']]);
    expect(issues({ ciTarget: 'narrow' })).toEqual([['ciTarget', 'must be a percentage']]);
  });
});
