import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nft } from '../../backends/nft/backend.js';
import type { NodeTarget } from '../../backends/types.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import { RealExec } from '../../src/exec/index.js';
import { memorySupport, openMemoryProbe, type MemoryProbe } from '../../src/sandbox/memory.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { scaleStates } from '../../scripts/bench-render.js';
import { isRoot } from '../helpers.js';

// The memory of a node's `nft -f` (src/sandbox/memory.ts): GNU time's peak RSS always; the
// cgroup v2 figures where cgroup v2 has the memory controller (not on a hybrid cgroup setup,
// where they are absent and the probe says why).

const exec = new RealExec();

describe.runIf(isRoot)('memory of nft -f', () => {
  let sb: Sandbox;
  let t: NodeTarget;
  let probe: MemoryProbe;
  beforeAll(async () => {
    sb = await openSandbox(exec, sandboxSchema.parse({ pods: 2 }), { command: 'test nft-memory' });
    t = nodeTarget(exec, sb, { iptablesMode: 'legacy', syncTimeoutMs: 60_000 });
    probe = await openMemoryProbe(exec, sb.plan.runId, sb.state!);
  });
  afterAll(async () => {
    await nft.teardown(t).catch(() => {});
    await closeSandbox(exec, sb);
    if (probe.cgroup !== undefined) expect(existsSync(probe.cgroup)).toBe(false);
  });

  it('measures a full sync of 1,000 services', async () => {
    const { state } = scaleStates(1000, sb.plan.serviceCidr, sb.plan.podCidr);
    const rendered = nft.render(undefined, state, t.cfg, t.options);
    const { result, memory } = await probe.run({ netns: t.netns, argv: ['nft', '-f', '-'], stdin: rendered.payload.script });
    expect(result.stderr).toBe('');
    expect(memory.peakRssKiB).toBeGreaterThan(1000);
    const support = memorySupport();
    expect(probe.support.ok).toBe(support.ok);
    if (support.ok) {
      expect(memory.cgroupPeakBytes).toBeGreaterThan(memory.peakRssKiB! * 1024 * 0.5);
      expect(memory.kernelBytes).toBeGreaterThan(0);
      expect(memory.slabUnreclaimableBytes).toBeGreaterThan(0);
      expect(await probe.retainedKernelBytes()).toBeGreaterThan(0);
    } else {
      console.log(`cgroup v2 memory not measurable here: ${support.reason}`);
      expect(memory.cgroupPeakBytes).toBeUndefined();
    }
    // the table is really there
    expect(await nft.readBack(t, rendered)).toEqual([]);
  });
});
