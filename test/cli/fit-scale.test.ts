import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { FakeExec } from '../../src/exec/index.js';
import { tempDirs } from '../temp-dirs.js';

const newDir = tempDirs('svcbench-fit-');

// bench run with a backend scaled to its sync timeout (the rule-by-rule iptables backend), against
// the fake exec: every iptables command takes 1 ms (a blocking sleep in the canned answer), so the
// probe's full syncs of 10 and 30 services have a real pace, far too slow for 1,000 services in
// the 1 s --sync-timeout.

const sleep = new Int32Array(new SharedArrayBuffer(4));

/** bench run of the iptables backend at 1,000 services with a 1 s --sync-timeout, each iptables
 * command taking `ms()` milliseconds. */
async function runScaled(ms: () => number) {
  const exec = new FakeExec((cmd) => {
    if (cmd.argv[0]?.startsWith('iptables') && cmd.argv.includes('-w')) Atomics.wait(sleep, 0, 0, ms());
    return undefined;
  });
  let stdout = '';
  const stderr: string[] = [];
  const io = { out: (t: string) => void (stdout += t), say: (l: string) => void stderr.push(l) };
  const argv = ['run', '--backend', 'iptables', '--services', '1000', '--path', 'pod', '--workload', 'tcp-crr'];
  const flags = ['--repeat', '1', '--ci-target', '0', '--sync-iterations', '0', '--proglat-repeat', '1', '--sync-timeout', '1'];
  const code = await runCli([...argv, ...flags, '--duration', '1', '--warmup', '0', '--out', newDir()], {
    io,
    contextFor: () => ({ exec, ...io }),
  });
  return { code, stdout, err: stderr.join('\n') };
}

describe('bench run scales a backend to its sync timeout', () => {
  it('probes its pace, runs its cases at the largest scale that fits, and says so in the progress and the table', async () => {
    const { code, stdout, err } = await runScaled(() => 1);
    expect(code, err).toBe(0);
    expect(err).toMatch(/iptables: timing its sync pace on full syncs of 10 and 30 services against the 1 s --sync-timeout/);
    const m =
      /iptables @1000: measured at (\d+) services instead: its probe \(full syncs of 10 services [\d.]+ s, 30 services [\d.]+ s/.exec(err);
    expect(m, err).not.toBeNull();
    const n = Number(m![1]);
    // ≈17 ms per service at 1 ms per command: about 29 services fit half of 1 s.
    expect(n).toBeGreaterThanOrEqual(5);
    expect(n).toBeLessThan(60);
    expect(err).toMatch(new RegExp(`iptables @${n}: full sync`));
    expect(stdout).toMatch(new RegExp(`^iptables ran at ${n} services where 1000 were asked for: `, 'm'));
  });

  it('tries once more, lower, when the full sync at the fitted scale still exceeds the budget', async () => {
    // The probe's commands take 1 ms, the later ones 4 ms: the machine slowed down after the probe.
    let n = 0;
    const { code, stdout, err } = await runScaled(() => (++n <= 800 ? 1 : 4));
    expect(code, err).toBe(0);
    const first = /iptables @1000: measured at (\d+) services instead: its probe/.exec(err);
    const again =
      /iptables @1000: measured at (\d+) services instead: its full sync of (\d+) services exceeded --sync-timeout after all, so its probe/.exec(
        err,
      );
    expect(first, err).not.toBeNull();
    expect(again, err).not.toBeNull();
    expect(again![2]).toBe(first![1]);
    expect(Number(again![1])).toBeLessThan(Number(first![1]));
    expect(stdout).toMatch(
      new RegExp(`^iptables ran at ${again![1]} services where 1000 were asked for: its full sync of ${first![1]} services exceeded`, 'm'),
    );
  });
});
