import { describe, expect, it } from 'vitest';
import { tokenize } from './parse-save.js';
import { formatRule, quoteArg, toRestorePayload, toRuleCommands } from './ruleset.js';
import type { Ruleset } from './ruleset.js';
import { applyRuleCommands, simTables, toRuleset } from './simulate.js';

describe('quoteArg / formatRule', () => {
  it('quotes only what needs it, like kube-proxy', () => {
    expect(quoteArg('ns1/svc1:p80')).toBe('ns1/svc1:p80');
    expect(quoteArg('ns1/svc1:p80 cluster IP')).toBe('"ns1/svc1:p80 cluster IP"');
    expect(quoteArg('')).toBe('""');
  });

  it('escapes like iptables-save and round-trips through the restore tokenizer', () => {
    const nasty = `a "quoted" and back\\slash 'single'`;
    expect(quoteArg(nasty)).toBe(`"a \\"quoted\\" and back\\\\slash \\'single\\'"`);
    expect(tokenize(`-A X -m comment --comment ${quoteArg(nasty)} -j Y`)).toEqual([
      '-A',
      'X',
      '-m',
      'comment',
      '--comment',
      nasty,
      '-j',
      'Y',
    ]);
  });

  it('formats a rule line', () => {
    expect(formatRule('KUBE-SEP-X', ['-m', 'comment', '--comment', 'ns1/svc1:p80', '-s', '10.0.1.1', '-j', 'KUBE-MARK-MASQ'])).toBe(
      '-A KUBE-SEP-X -m comment --comment ns1/svc1:p80 -s 10.0.1.1 -j KUBE-MARK-MASQ',
    );
    expect(formatRule('C', [])).toBe('-A C');
  });
});

const rs = (filter: Record<string, string[][]>, nat: Record<string, string[][]>): Ruleset => ({
  filter: Object.entries(filter).map(([name, rules]) => ({ name, rules })),
  nat: Object.entries(nat).map(([name, rules]) => ({ name, rules })),
});

describe('toRestorePayload', () => {
  const ruleset = rs(
    { 'KUBE-FORWARD': [['-j', 'ACCEPT']] },
    { 'KUBE-SERVICES': [['-m', 'comment', '--comment', 'a b', '-j', 'KUBE-SVC-A']], 'KUBE-SVC-A': [] },
  );
  const nat = [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-SVC-A - [0:0]',
    ':KUBE-SEP-OLD - [0:0]',
    '-A KUBE-SERVICES -m comment --comment "a b" -j KUBE-SVC-A',
    '-X KUBE-SEP-OLD',
    'COMMIT',
  ];
  const filter = ['*filter', ':KUBE-FORWARD - [0:0]', '-A KUBE-FORWARD -j ACCEPT', 'COMMIT'];

  it("writes nat then filter (kube-proxy's IPVS mode), chain lines before rules, deletions last", () => {
    expect(toRestorePayload(ruleset, { nat: ['KUBE-SEP-OLD'] })).toBe([...nat, ...filter, ''].join('\n'));
  });
});

describe('toRuleCommands', () => {
  const prev = rs(
    { 'KUBE-SERVICES': [['-d', '1.1.1.1', '-j', 'REJECT']] },
    {
      'KUBE-SERVICES': [
        ['-d', '1.1.1.1', '-j', 'KUBE-SVC-A'],
        ['-d', '2.2.2.2', '-j', 'KUBE-SVC-B'],
        ['-j', 'KUBE-NODEPORTS'],
      ],
      'KUBE-NODEPORTS': [],
      'KUBE-SVC-A': [['-j', 'KUBE-SEP-A1']],
      'KUBE-SEP-A1': [['-j', 'DNAT']],
      'KUBE-SVC-B': [['-j', 'KUBE-SEP-B1']],
      'KUBE-SEP-B1': [['-j', 'DNAT']],
    },
  );
  const next = rs(
    { 'KUBE-SERVICES': [] },
    {
      'KUBE-SERVICES': [
        ['-d', '1.1.1.1', '-j', 'KUBE-SVC-A'],
        ['-d', '3.3.3.3', '-j', 'KUBE-SVC-C'],
        ['-j', 'KUBE-NODEPORTS'],
      ],
      'KUBE-NODEPORTS': [],
      'KUBE-SVC-A': [
        ['-m', 'statistic', '-j', 'KUBE-SEP-A1'],
        ['-j', 'KUBE-SEP-A2'],
      ],
      'KUBE-SEP-A1': [['-j', 'DNAT']],
      'KUBE-SEP-A2': [['-j', 'DNAT']],
      'KUBE-SVC-C': [['-j', 'KUBE-SEP-C1']],
      'KUBE-SEP-C1': [['-j', 'DNAT']],
    },
  );

  it('creates every chain before any rule on a full sync', () => {
    const cmds = toRuleCommands(prev);
    const firstAppend = cmds.findIndex((c) => c[2] === '-A');
    expect(cmds.slice(0, firstAppend).every((c) => c[2] === '-N')).toBe(true);
    expect(cmds.filter((c) => c[2] === '-N')).toHaveLength(7);
    expect(toRuleset(applyRuleCommands(simTables(), cmds))).toEqual(prev);
  });

  it('edits prev into next without touching unchanged chains', () => {
    const cmds = toRuleCommands(next, prev);
    expect(cmds).toEqual([
      ['-t', 'nat', '-N', 'KUBE-SEP-A2'],
      ['-t', 'nat', '-N', 'KUBE-SVC-C'],
      ['-t', 'nat', '-N', 'KUBE-SEP-C1'],
      // changed service chains are rewritten, new ones filled
      ['-t', 'nat', '-F', 'KUBE-SVC-A'],
      ['-t', 'nat', '-A', 'KUBE-SVC-A', '-m', 'statistic', '-j', 'KUBE-SEP-A1'],
      ['-t', 'nat', '-A', 'KUBE-SVC-A', '-j', 'KUBE-SEP-A2'],
      ['-t', 'nat', '-A', 'KUBE-SEP-A2', '-j', 'DNAT'],
      ['-t', 'nat', '-A', 'KUBE-SVC-C', '-j', 'KUBE-SEP-C1'],
      ['-t', 'nat', '-A', 'KUBE-SEP-C1', '-j', 'DNAT'],
      // hooks are edited rule by rule
      ['-t', 'filter', '-D', 'KUBE-SERVICES', '-d', '1.1.1.1', '-j', 'REJECT'],
      ['-t', 'nat', '-D', 'KUBE-SERVICES', '-d', '2.2.2.2', '-j', 'KUBE-SVC-B'],
      ['-t', 'nat', '-I', 'KUBE-SERVICES', '2', '-d', '3.3.3.3', '-j', 'KUBE-SVC-C'],
      // stale chains go last
      ['-t', 'nat', '-F', 'KUBE-SVC-B'],
      ['-t', 'nat', '-F', 'KUBE-SEP-B1'],
      ['-t', 'nat', '-X', 'KUBE-SVC-B'],
      ['-t', 'nat', '-X', 'KUBE-SEP-B1'],
    ]);
    const t = applyRuleCommands(simTables(prev), cmds);
    expect(toRuleset(t)).toEqual(next);
  });

  it('appends at the end and rewrites a hook chain whose kept rules move', () => {
    const a = rs(
      {},
      {
        'KUBE-X': [
          ['-j', 'A'],
          ['-j', 'B'],
        ],
      },
    );
    expect(
      toRuleCommands(
        rs(
          {},
          {
            'KUBE-X': [
              ['-j', 'A'],
              ['-j', 'B'],
              ['-j', 'C'],
            ],
          },
        ),
        a,
      ),
    ).toEqual([['-t', 'nat', '-A', 'KUBE-X', '-j', 'C']]);
    const swapped = rs(
      {},
      {
        'KUBE-X': [
          ['-j', 'B'],
          ['-j', 'A'],
        ],
      },
    );
    const cmds = toRuleCommands(swapped, a);
    expect(cmds[0]).toEqual(['-t', 'nat', '-F', 'KUBE-X']);
    expect(toRuleset(applyRuleCommands(simTables(a), cmds))).toEqual(swapped);
  });

  it('falls back to a rewrite when -D by spec would be ambiguous', () => {
    const a = rs(
      {},
      {
        'KUBE-X': [
          ['-j', 'A'],
          ['-j', 'B'],
          ['-j', 'A'],
        ],
      },
    );
    const b = rs(
      {},
      {
        'KUBE-X': [
          ['-j', 'A'],
          ['-j', 'B'],
        ],
      },
    );
    const cmds = toRuleCommands(b, a);
    expect(cmds[0]).toEqual(['-t', 'nat', '-F', 'KUBE-X']);
    expect(toRuleset(applyRuleCommands(simTables(a), cmds))).toEqual(b);
  });
});
