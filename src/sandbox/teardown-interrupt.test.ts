import { describe, expect, it } from 'vitest';
import { CommandError, FakeExec } from '../exec/index.js';
import type { Command } from '../exec/types.js';
import { outlivingInterrupt } from './sandbox.js';

// random-kill seed 20261207, #82: a SIGINT to the process group during teardown killed the
// `ip -force -batch -` that deletes the namespaces, and the run exited 1 leaving them all.

describe('the removal outlives a Ctrl-C', () => {
  const netnsDel: Command = { argv: ['ip', '-force', '-batch', '-'], stdin: 'netns del svcb-x-node\n', allowFailure: true };

  it('runs a command a signal ended once more', async () => {
    let calls = 0;
    const inner = new FakeExec();
    const exec = outlivingInterrupt({
      ...inner,
      run: async (cmd) => {
        calls++;
        if (calls === 1) throw new CommandError(cmd, undefined, '', { cause: { signal: 'SIGINT' } });
        return inner.run(cmd);
      },
      start: (c) => inner.start(c),
      observe: (r) => inner.observe(r),
      alter: (c, i) => inner.alter(c, i),
    });
    await expect(exec.run(netnsDel)).resolves.toMatchObject({ exitCode: 0 });
    expect(calls).toBe(2);
  });

  it('does not retry a command that failed on its own', async () => {
    const exec = outlivingInterrupt(new FakeExec(() => ({ exitCode: 1, stderr: 'Cannot remove namespace' })));
    await expect(exec.run({ argv: ['ip', 'netns', 'del', 'x'] })).rejects.toThrow(/Cannot remove namespace/);
  });
});
