import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attribute, capStacks, innermostGroup, ownContext } from './attribute.js';
import { groupOfSymbol } from './groups.js';
import { normalSymbol, parsePerfScript } from './parse.js';
import { perfRecordArgv, samplingPlan } from './sampler.js';
import { createRng } from '../stats/index.js';

const canned = readFileSync(new URL('./testdata/perf-script.txt', import.meta.url), 'utf8');
const CASE_PIDS = new Set([24469, 25009, 24703, 23832]);

describe('parsePerfScript', () => {
  const samples = parsePerfScript(canned);
  it('reads every sample with its header fields', () => {
    expect(samples).toHaveLength(14);
    expect(samples[0]).toMatchObject({ comm: 'node', pid: 24469, tid: 24469, cpu: 1, period: 250000 });
    expect(samples[8]).toMatchObject({ comm: 'swapper', pid: 0, tid: 0, cpu: 1 });
    expect(samples[13]).toMatchObject({ comm: 'tokio worker 1', pid: 31337, tid: 31340, cpu: 0 });
  });
  it('keeps the call chain leaf first, a user-mode sample with none', () => {
    expect(samples[1]!.frames[0]).toBe('bpf_prog_2b0091d9ff35849f_sock4_connect');
    expect(samples[3]!.frames.slice(0, 2)).toEqual(['nft_do_chain', 'nft_do_chain_ipv4']);
    expect(samples[9]!.frames).toEqual([]);
    expect(samples[0]!.frames.at(-1)).toBe('entry_SYSCALL_64_after_hwframe');
  });
  it("drops offsets and the compiler's clone suffixes", () => {
    expect(samples[2]!.frames).toContain('__tcf_classify');
    expect(normalSymbol('tcp_v4_connect+0x1a')).toBe('tcp_v4_connect');
    expect(normalSymbol('do_softirq.part.0')).toBe('do_softirq');
    expect(normalSymbol('finish_task_switch.isra.0')).toBe('finish_task_switch');
    expect(normalSymbol('ip_rcv.cold')).toBe('ip_rcv');
  });
  it('skips lines that are not samples', () => {
    expect(parsePerfScript('Warning:\nsome noise\n\nnode 1/2 [000] 1000 cpu-clock:\n\tffff tcp_v4_rcv ([kernel.kallsyms])\n')).toEqual([
      { comm: 'node', pid: 1, tid: 2, cpu: 0, period: 1000, frames: ['tcp_v4_rcv'] },
    ]);
  });
});

describe('groups of kernel symbols', () => {
  it.each([
    ['bpf_prog_2b0091d9ff35849f_sock4_connect', 'bpf'],
    ['__cgroup_bpf_run_filter_sock_addr', 'bpf'],
    ['__bpf_prog_enter_recur', undefined],
    ['bpf_sk_storage_free', undefined],
    ['ip_vs_in_hook', 'ip_vs'],
    ['nf_nat_inet_fn', 'nat'],
    ['nft_nat_do_chain', 'nat'],
    ['masquerade_tg', 'nat'],
    ['nf_conntrack_in', 'conntrack'],
    ['__nf_conntrack_confirm', 'conntrack'],
    ['tcp_in_window', 'conntrack'],
    ['nf_hook_slow', 'netfilter'],
    ['nft_do_chain', 'netfilter'],
    ['ipt_do_table', 'netfilter'],
    ['addrtype_mt_v1', 'netfilter'],
    ['tcp_mt', 'netfilter'],
    ['fib_table_lookup', 'routing'],
    ['ip_route_input_slow', 'routing'],
    ['tcp_v4_connect', 'stack'],
    ['__inet_lookup_established', 'stack'],
    ['veth_xmit', 'stack'],
    ['pv_native_safe_halt', undefined],
  ])('%s → %s', (sym, group) => expect(groupOfSymbol(sym)).toBe(group));
});

describe('the innermost rule', () => {
  it('gives nested netfilter → conntrack to conntrack once', () => {
    expect(innermostGroup(['nf_conntrack_in', 'nf_hook_slow', 'ip_rcv'])).toBe('conntrack');
  });
  it("gives a routing lookup made by a rule to the rule's machinery", () => {
    expect(innermostGroup(['fib_table_lookup', '__inet_dev_addr_type', 'nft_fib4_eval_type', 'nft_do_chain', 'nf_hook_slow'])).toBe(
      'netfilter',
    );
    expect(innermostGroup(['fib_table_lookup', 'ip_route_input_slow', 'ip_rcv'])).toBe('routing');
  });
  it('stops at a softirq entry', () => {
    const chain = [
      'tcp_v4_rcv',
      'net_rx_action',
      'handle_softirqs',
      'do_softirq',
      '__local_bh_enable_ip',
      '__nf_conntrack_confirm',
      'nf_hook_slow',
    ];
    expect(ownContext(chain)).toEqual(['tcp_v4_rcv', 'net_rx_action']);
    expect(innermostGroup(chain)).toBe('stack');
  });
});

describe('attribute', () => {
  const a = attribute(parsePerfScript(canned), { pids: CASE_PIDS });
  it('counts every sample once, to its group', () => {
    expect(a.samples).toEqual({ total: 14, counted: 11, idle: 1, unrelated: 2 });
    expect(a.groupSamples).toEqual({ bpf: 3, ip_vs: 0, nat: 1, conntrack: 1, netfilter: 2, routing: 1, stack: 2, user: 1, other: 0 });
    expect(a.groupNs.bpf).toBe(750_000);
    expect(Object.values(a.groupSamples).reduce((x, y) => x + y, 0)).toBe(a.samples.counted);
  });
  it('counts the path groups of any process, the rest only of the case', () => {
    const none = attribute(parsePerfScript(canned), { pids: new Set() });
    // Without the case's pids: user time and process-context stack time are not the case's.
    expect(none.groupSamples.user).toBe(0);
    expect(none.groupSamples.stack).toBe(2); // both in softirq context
    expect(none.groupSamples.netfilter + none.groupSamples.nat + none.groupSamples.conntrack).toBe(4);
  });
  it('folds stacks root first behind their group, user samples by command', () => {
    const keys = a.stacks.map(([k]) => k);
    expect(keys).toContain('user;node');
    // The softirq's own frames only: its interrupted context (a connect syscall) is cut off.
    expect(keys).toContain(
      'conntrack;net_rx_action;__napi_poll;process_backlog;__netif_receive_skb_one_core;ip_rcv;nf_hook_slow;nf_conntrack_in',
    );
    expect(a.stacks.every(([k]) => k.split(';').length <= 17)).toBe(true);
  });
  it('caps the number of stacks, summing the rest per group', () => {
    const m = new Map([
      ['nat;a', 5],
      ['nat;b', 3],
      ['stack;c', 2],
      ['nat;d', 1],
    ]);
    expect(capStacks(m, 2)).toEqual([
      ['nat;a', 5],
      ['nat;b', 3],
      ['stack;(smaller stacks)', 2],
      ['nat;(smaller stacks)', 1],
    ]);
  });
});

describe('perf record argv', () => {
  it('samples every CPU with kernel call chains at the period of the frequency, disabled until the control fifo enables it', () => {
    expect(perfRecordArgv('/tmp/x/perf.data', { hz: 4000 }, '/tmp/x/control', 2500)).toEqual([
      'perf',
      'record',
      '-a',
      '-g',
      '--kernel-callchains',
      '-e',
      'cpu-clock',
      '-c',
      '250000',
      '--sample-cpu',
      '-B',
      '-N',
      '-q',
      '-D',
      '-1',
      '--control',
      'fifo:/tmp/x/control',
      '-o',
      '/tmp/x/perf.data',
      '--',
      'sleep',
      '2.500',
    ]);
  });
});

describe('sampling plan', () => {
  it('splits the measured time into pairs of one sampled and one unsampled block of at most 500 ms, in a drawn order', () => {
    const p = samplingPlan(4000, createRng(1));
    expect(p.blockMs).toBe(500);
    expect(p.sampled).toHaveLength(8);
    for (let i = 0; i < 8; i += 2) expect(p.sampled[i]).toBe(!p.sampled[i + 1]);
    const orders = new Set(Array.from({ length: 20 }, (_, i) => samplingPlan(1000, createRng(i)).sampled[0]));
    expect(orders).toEqual(new Set([true, false]));
    expect(samplingPlan(300, createRng(1))).toMatchObject({ blockMs: 150 });
    expect(samplingPlan(2500, createRng(1)).sampled).toHaveLength(6);
  });
});
