import { describe, expect, it } from 'vitest';
import { planTrials } from './kill/campaign.js';
import { phaseAt, SCENARIOS } from './kill/scenarios.js';

// The random-kill campaign's bookkeeping (test/faults/kill): which phase a kill landed in, read
// from the command's output before it, and the seeded choice of trials.

const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;

// bench --print-commands run --backend nft (abridged from a real run's stderr).
const RUN = [
  '+ nft --version',
  'run 20261206-101342-5m3jbo: results in /tmp/x/run.json (seed 1)',
  '+ ip -batch - <<stdin (7 lines)',
  "+ [svcb-wrodaf-node] sysctl -q -w 'net.ipv4.ip_local_port_range=1024 65535'",
  '+ mount -t bpf bpf /run/svcbench/wrodaf-bpffs',
  '+ [svcb-wrodaf-srv-0 cgroup /sys/fs/cgroup/unified/svcb-wrodaf] /usr/bin/node serve.js',
  '+ [svcb-wrodaf-node] nft delete table ip kube-proxy',
  '+ [svcb-wrodaf-node] nft -f - <<stdin (50100 lines)',
  'nft (1.37) @10000: full sync 12319 ms (render 440, apply 11879)',
  '+ [svcb-wrodaf-node] nft -f - <<stdin (6 lines)',
  '[1/1] nft (1.37) pod tcp-rr @10 services, repetition 1',
  '  → 576 transactions/s, p50 1610 µs',
  '+ ip -force -batch - <<stdin (7 lines)',
  '+ umount /run/svcbench/wrodaf-bpffs',
  'reports: /tmp/x/report.md, /tmp/x/report.html',
];

describe('phaseAt', () => {
  it.each([
    [1, 'start'],
    [2, 'preflight'],
    [4, 'sandbox build'],
    [6, 'servers start'],
    [8, 'full sync'],
    [10, 'partial syncs'],
    [11, 'case'],
    [12, 'between cases'],
    [14, 'teardown'],
    [15, 'finishing'],
  ])('a kill after %i lines of bench run lands in %s', (n, phase) => {
    expect(phaseAt(RUN.slice(0, n), scenario('run nft: case'))).toBe(phase);
  });

  it("names eBPF's full sync the BPF load, and bench sync's steps sync points", () => {
    expect(
      phaseAt(
        ['+ mount -t bpf bpf /run/svcbench/a-bpffs', '+ [svcb-abcdef-node] tc qdisc del dev ext0 clsact'],
        scenario('run ebpf: case'),
      ),
    ).toBe('BPF load');
    expect(
      phaseAt(
        ['+ mount -t bpf bpf /run/svcbench/a-bpffs', '[1/4] nft (1.37) @1,000 services', '+ [svcb-abcdef-node] nft -f - <<stdin (1 lines)'],
        scenario('sync nft'),
      ),
    ).toBe('sync point');
  });

  it('tells a guest boot from the command inside the guest', () => {
    const s = scenario('run --kernel guest nft: boot');
    const boot = ["guest drouda: booting Debian's kernel 6.1.0-57-amd64 under qemu (TCG, 2 vCPUs, 1536 MiB)…"];
    expect(phaseAt(boot, s)).toBe('guest boot');
    expect(phaseAt([...boot, '+ nft --version'], s)).toBe('guest: preflight');
    expect(phaseAt([...boot, '+ nft --version', ...RUN.slice(1, 8)], s)).toBe('guest: full sync');
  });
});

describe('planTrials', () => {
  it('is the same for the same seed, and CI draws no expensive scenario', () => {
    const a = planTrials(42, 50, { full: false });
    expect(planTrials(42, 50, { full: false })).toEqual(a);
    expect(a.filter((t) => t.scenario.full)).toEqual([]);
    expect(a.every((t) => t.delayMs >= 0 && t.delayMs < t.scenario.windowMs)).toBe(true);
    expect(a.filter((t) => t.signal === 'SIGINT').every((t) => t.to === 'group')).toBe(true);
  });
});
