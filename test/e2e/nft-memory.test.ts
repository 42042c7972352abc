import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nft } from '../../backends/nft/backend.js';
import type { NodeTarget } from '../../backends/types.js';
import { sandboxSchema } from '../../src/config/sandbox.js';
import { RealExec } from '../../src/exec/index.js';
import { memorySupport, openMemoryProbe, type MemoryProbe } from '../../src/sandbox/memory.js';
import { closeSandbox, nodeTarget, openSandbox, type Sandbox } from '../../src/sandbox/session.js';
import { scaleStates } from '../../scripts/bench-render.js';
import { bench, isRoot } from '../helpers.js';

// The memory of a node's `nft -f` (src/sandbox/memory.ts): GNU time's peak RSS always; the
// cgroup v2 figures where cgroup v2 has the memory controller, the cgroup v1 ones on a hybrid
// host (memory bound to v1, like this development machine and CI).

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
    expect(probe.support).toEqual(support);
    if (support.ok) {
      console.log(`cgroup v${support.version} memory of a 1,000-service nft -f: ${JSON.stringify(memory)}`);
      expect(memory.cgroupPeakBytes).toBeGreaterThan(memory.peakRssKiB! * 1024 * 0.5);
      expect(memory.kernelBytes).toBeGreaterThan(0);
      if (support.version === 2) expect(memory.slabUnreclaimableBytes).toBeGreaterThan(0);
      else expect(memory.kernelPeakBytes).toBeGreaterThanOrEqual(memory.kernelBytes!);
      expect(await probe.retainedKernelBytes()).toBeGreaterThan(0);
    } else {
      console.log(`cgroup memory not measurable here: ${support.reason}`);
      expect(memory.cgroupPeakBytes).toBeUndefined();
    }
    // the table is really there
    expect(await nft.readBack(t, rendered)).toEqual([]);
  });
});

// A run SIGKILLed while it holds its memory cgroup (and a per-sync child of it): `bench clean`
// finds it (the state file records it before it is made) and removes it.
const KILLED = `
const { RealExec } = await import(process.argv[1] + '/dist/src/exec/index.js');
const { sandboxSchema } = await import(process.argv[1] + '/dist/src/config/sandbox.js');
const { openSandbox } = await import(process.argv[1] + '/dist/src/sandbox/session.js');
const { openMemoryProbe } = await import(process.argv[1] + '/dist/src/sandbox/memory.js');
const exec = new RealExec();
const sb = await openSandbox(exec, sandboxSchema.parse({ pods: 2 }), { command: 'test nft-memory killed' });
const probe = await openMemoryProbe(exec, sb.plan.runId, sb.state);
console.log(JSON.stringify({ cgroup: probe.cgroup ?? null }));
await probe.run({ netns: sb.plan.nodes[0].netns, argv: ['sleep', '600'] });
`;

describe.runIf(isRoot && memorySupport().ok)('memory cgroup of a SIGKILLed run', () => {
  it('is removed by bench clean', async () => {
    const child = execa(process.execPath, ['--input-type=module', '-e', KILLED, process.cwd()], { reject: false });
    let cgroup: string | undefined;
    for await (const line of child.stdout!) {
      cgroup = (JSON.parse(String(line)) as { cgroup: string }).cgroup;
      break;
    }
    expect(cgroup).toBeTruthy();
    // wait for the per-sync child cgroup holding `sleep`
    for (let i = 0; i < 100 && !(existsSync(cgroup!) && readdirSync(cgroup!).some((n) => n.startsWith('s'))); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(cgroup!, 's1'))).toBe(true);
    child.kill('SIGKILL');
    await child;
    // bench clean kills what runs in the run's namespaces (the sleep), then removes the cgroups
    const c = await bench(['clean']);
    expect(c.exitCode).toBe(0);
    expect(existsSync(cgroup!)).toBe(false);
  });
});
