import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, NodeTarget } from '../../backends/types.js';
import { systemClock } from '../../src/clock.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import type { Started } from '../../src/exec/index.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { sync } from '../../src/sync.js';
import { exec, isRoot, requireBuild } from '../helpers.js';

// The prober and the server are scripts run by path: take the built modules, whose paths name the
// built scripts (src/ has only their TypeScript).
type Client = typeof import('../../src/probe/client.js');
type Proglat = typeof import('../../src/run/proglat.js');
const built = async () => ({
  client: (await import(resolve('dist/src/probe/client.js'))) as Client,
  proglat: (await import(resolve('dist/src/run/proglat.js'))) as Proglat,
});

// The programming-latency probe against a backend whose rules appear a known delay after its sync
// starts: a test-only backend (never registered) whose apply returns at once and, DELAY_MS later,
// hands a DNAT rule for the VIP to an `nft -i` already running in the node namespace (the nat
// chain exists from the start, as kube-proxy's do). The probe must find the moment the rule went
// in, every repetition, within ±3 ms unless the prober stalled (then its interval says so).

const DELAY_MS = 37;
const VIP = '10.96.200.1';
const PORT = 9090;
const TABLE = 'svcb_delayed';

describe.runIf(isRoot)('network-programming latency', { timeout: 120_000 }, () => {
  let sb: Sandbox;
  let servers: Started[] = [];
  let m: Awaited<ReturnType<typeof built>>;
  beforeAll(async () => {
    requireBuild();
    m = await built();
    sb = await openSandbox(exec, sandboxSchema.parse({ pods: 1, clients: 1 }), { command: 'test programming latency' });
    const pod = sb.plan.pods.find((p) => p.kind === 'server')!;
    servers = [
      sb.exec.start({ netns: pod.netns, argv: [process.execPath, m.client.SERVE_SCRIPT, '--name', 'srv-0', '--tcp', String(PORT)] }),
    ];
    await m.client.waitListening(sb.exec, sb.plan.pods.find((p) => p.kind === 'client')!.netns, [`${pod.ip}:${PORT}`]);
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    if (sb) await closeSandbox(exec, sb);
  });

  it(`measures rules that appear ${DELAY_MS} ms after the sync starts within ±3 ms`, async () => {
    const pod = sb.plan.pods.find((p) => p.kind === 'server')!;
    const client = sb.plan.pods.find((p) => p.kind === 'client')!.netns;
    const target: NodeTarget = nodeTarget(exec, sb, { iptablesMode: 'nft', syncTimeoutMs: 10_000 });
    // One `nft -i` for the whole test, already running when a rule is due: it executes each line
    // as it arrives, so no process start-up (several ms here) sits between the timer and the commit.
    const nft = spawn('nsenter', [`--net=/run/netns/${sb.plan.node.netns}`, '--', 'nft', '--echo', '-i'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // --echo prints each added rule once committed: when this process reads it bounds the commit.
    let onEcho: (() => void) | undefined;
    // A chunk of nft's output may end inside an echoed rule: count the rules in all of it.
    let echoedText = '';
    let echoes = 0;
    nft.stdout!.on('data', (d: Buffer) => {
      echoedText += d.toString();
      const n = echoedText.split('dnat to').length - 1;
      if (n > echoes) {
        echoes = n;
        onEcho?.();
      }
    });
    const nftExited = new Promise((r) => nft.on('exit', r));
    nft.stdin!.write(`add table ip ${TABLE}\nadd chain ip ${TABLE} pre { type nat hook prerouting priority dstnat; }\n`);
    for (
      let i = 0;
      (await exec.run({ netns: target.netns, argv: ['nft', 'list', 'chain', 'ip', TABLE, 'pre'], allowFailure: true })).exitCode !== 0;
      i++
    )
      if (i > 100) throw new Error('nft -i did not create the chain');
    const rule = `add rule ip ${TABLE} pre ip daddr ${VIP} tcp dport 80 dnat to ${pod.ip}:${PORT}\n`;
    // Per sync: when it started (the timed call, right after the probe's t0), when its rule went
    // to nft and when nft echoed it.
    const times: { started: number; handed: number; echoed: number; syncMs?: number }[] = [];
    const delayed: Backend<null> = {
      name: 'delayed-dnat',
      title: 'test only: a DNAT rule that appears a fixed time after the sync starts',
      iptablesFlavour: false,
      preflight: async () => ({ state: 'ready', checks: [] }),
      render: () => ({ kind: 'partial', payload: null, size: { count: 1, unit: 'rules' } }),
      apply: async () => {
        const entry = times.at(-1)!;
        setTimeout(() => {
          entry.handed = systemClock.now();
          onEcho = () => (entry.echoed = systemClock.now());
          nft.stdin!.write(rule);
        }, DELAY_MS);
        return { commands: 0 };
      },
      readBack: async () => [],
      teardown: async (t) =>
        void (await t.exec.run({ netns: t.netns, argv: ['nft', 'flush', 'chain', 'ip', TABLE, 'pre'], allowFailure: true })),
    };
    const empty = { services: [], endpoints: {} };
    try {
      const { samples } = await m.proglat.repeatProgramming(
        sb.exec,
        systemClock,
        { netns: client, target: `${VIP}:80`, repeat: 5 },
        async () => {
          const entry = { started: systemClock.now(), handed: 0, echoed: 0, syncMs: undefined as number | undefined };
          times.push(entry);
          const { record } = await sync(delayed, target, empty, empty);
          entry.syncMs = record.totalMs;
          return record;
        },
        () => delayed.teardown(target),
      );
      // A repetition whose prober started late is redone: its sync is in `times`, not in `samples`.
      // Each sample carries its own sync's time, which finds its entry wherever the redo fell.
      const rows = samples.map((x) => {
        const t = times.find((e) => e.syncMs === x.syncMs)!;
        return { ms: x.ms, note: x.note, stepMs: x.stepMs, handedMs: t.handed - t.started, echoedMs: t.echoed - t.started };
      });
      console.log(rows);
      expect(samples).toHaveLength(5);
      for (const r of rows) {
        expect(r.ms, r.note).not.toBeNull();
        // The timer may fire late and nft may wait for a CPU on a loaded machine: the rule went in
        // between its hand-over and its echo. The probe says it went in within (ms - stepMs, ms]:
        // that interval must meet [handed, echoed]. (libuv fires a timer by its loop's cached
        // millisecond clock: up to 1 ms early. `ms` counts from the probe's t0, the others from
        // `started`, read microseconds later.)
        expect(r.handedMs).toBeGreaterThanOrEqual(DELAY_MS - 1);
        expect(r.ms!).toBeGreaterThanOrEqual(r.handedMs);
        expect(r.ms! - r.stepMs!).toBeLessThanOrEqual(r.echoedMs + 0.1);
      }
      // ±3 ms: the interval is at most 3 ms long, except where the prober stalled (a descheduled
      // vCPU inside an attempt's connect() bracket or between attempts); most repetitions must not
      // have. (Two real-time CPU hogs spinning 4 ms in every ~15 ms on both vCPUs left 3 of 5.)
      expect(rows.filter((r) => r.stepMs! <= 3).length).toBeGreaterThanOrEqual(3);
    } finally {
      nft.stdin!.end();
      await nftExited;
      await exec.run({ netns: target.netns, argv: ['nft', 'delete', 'table', 'ip', TABLE], allowFailure: true });
    }
  });
});
