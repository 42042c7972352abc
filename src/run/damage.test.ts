import { describe, expect, it } from 'vitest';
import { goodResult } from '../../workloads/test-support/fixtures.js';
import { sandboxSchema } from '../config/sandbox.js';
import { FakeExec } from '../exec/fake.js';
import { planTopology } from '../sandbox/plan.js';
import type { BackendEnv } from './backend-sandbox.js';
import { linkNames, withDamage } from './damage.js';
import type { CaseResult } from './results.js';

const plan = planTopology('t1', sandboxSchema.parse({ pods: 2, clients: 1 }));
const links = (names: string[]) => ['1: lo: <LOOPBACK,UP>', ...names.map((n, i) => `${i + 2}: ${n}@if2: <BROADCAST,UP>`)].join('\n');
const base = {
  id: 'c',
  backend: 'nft',
  services: 10,
  endpoints: 1,
  target: 'last',
  path: 'clusterip',
  workload: 'tcp-crr',
  repetition: 1,
  startedAt: '',
};
const completed = {
  ...base,
  state: 'completed',
  result: goodResult,
  cpu: { loadGeneratorS: 0, serversS: 0, kernelS: 0, totalBusyS: 0 },
  checkedBy: 'srv-0',
} as unknown as CaseResult;
const errored: CaseResult = { ...base, state: 'errored', reason: '9 of 10 connections failed' };

const envWith = (gone: { workload: string; text: string }[]) => ({ sandbox: { plan }, gone }) as unknown as BackendEnv;

describe('sandbox damage', () => {
  it('reads interface names from ip -o link, and nothing from an empty answer', () => {
    expect(linkNames(links(['vs0', 'ext0']))).toEqual(new Set(['lo', 'vs0', 'ext0']));
    expect(linkNames('')).toBeUndefined();
  });

  it('names a dead server and a missing veth in an errored reason, and errors a completed case', async () => {
    const exec = new FakeExec((c) => (c.argv.join(' ') === 'ip -o link show' ? { stdout: links(['vs1', 'vc0', 'ext0']) } : undefined));
    const [e, c] = await withDamage(
      exec,
      envWith([
        { workload: 'tcp-crr', text: "srv-1's tcp-crr server (pid 7) was killed by SIGKILL" },
        { workload: 'http', text: "srv-0's http server (pid 8) was killed by SIGKILL" },
      ]),
      [errored, completed],
    );
    const damage =
      "the sandbox is damaged: srv-1's tcp-crr server (pid 7) was killed by SIGKILL; vs0 (srv-0's veth) is gone from svcb-t1-node";
    expect(e).toMatchObject({ state: 'errored', reason: `9 of 10 connections failed; ${damage}` });
    expect(c).toMatchObject({ state: 'errored', reason: `measured while ${damage}; its figures are not the path's`, result: goodResult });
    expect(c).not.toHaveProperty('cpu');
  });

  it("leaves the results alone in a whole sandbox, with only another workload's server dead (and when the listing says nothing)", async () => {
    const whole = new FakeExec((c) => (c.argv[0] === 'ip' ? { stdout: links(['vs0', 'vs1', 'vc0', 'ext0']) } : undefined));
    const other = envWith([{ workload: 'http', text: "srv-0's http server (pid 8) was killed by SIGKILL" }]);
    expect(await withDamage(whole, other, [errored, completed])).toEqual([errored, completed]);
    expect(await withDamage(new FakeExec(), envWith([]), [completed])).toEqual([completed]);
  });
});
