import { describe, expect, it } from 'vitest';
import { CommandError, DryRunExec, FakeExec, formatCommand, PrintingExec, RealExec, resolveArgv } from './index.js';

describe('exec port', () => {
  it('runs namespaced commands through nsenter, which keeps /sys (cgroup2, bpffs) visible', () => {
    expect(resolveArgv({ argv: ['ip', 'link'], netns: 'svcb-abc123-node' })).toEqual([
      'nsenter',
      '--net=/run/netns/svcb-abc123-node',
      '--',
      'ip',
      'link',
    ]);
    expect(resolveArgv({ argv: ['true'] })).toEqual(['true']);
  });

  it('joins a cgroup before entering the namespace, passing the path and argv as arguments, not script text', () => {
    const argv = resolveArgv({ argv: ['echo', '$(id)'], netns: 'svcb-abc123-node', cgroup: '/cg/x y' });
    expect(argv.slice(0, 5)).toEqual(['sh', '-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'svcbench-cgroup', '/cg/x y']);
    expect(argv.slice(5)).toEqual(['nsenter', '--net=/run/netns/svcb-abc123-node', '--', 'echo', '$(id)']);
    expect(formatCommand({ argv: ['id'], netns: 'n', cgroup: '/cg' })).toBe('[n cgroup /cg] id');
    expect(formatCommand({ argv: ['id'], cgroup: '/cg' })).toBe('[cgroup /cg] id');
  });

  it('formats commands for people, quoting what a shell would split', () => {
    expect(formatCommand({ argv: ['sysctl', '-w', 'net.ipv4.ip_local_port_range=1024 65535'], netns: 'n' })).toBe(
      "[n] sysctl -w 'net.ipv4.ip_local_port_range=1024 65535'",
    );
    expect(formatCommand({ argv: ['ip', '-batch', '-'], stdin: 'a\nb\n' })).toBe('ip -batch - <<stdin (2 lines)');
    expect(formatCommand({ argv: ['echo', "it's"] })).toBe(`echo 'it'\\''s'`);
  });

  it('passes argv without a shell, feeds stdin, and reports failures with command, code and stderr', async () => {
    const exec = new RealExec();
    const r = await exec.run({ argv: ['cat'], stdin: '$(echo not expanded); `id`' });
    expect(r.stdout).toBe('$(echo not expanded); `id`');
    const err = await exec.run({ argv: ['sh', '-c', 'echo boom >&2; exit 3'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).message).toMatch(/^command exited with code 3: sh -c 'echo boom >&2; exit 3'\nboom$/);
    expect((err as CommandError).cause).toBeDefined();
    const allowed = await exec.run({ argv: ['sh', '-c', 'exit 4'], allowFailure: true });
    expect(allowed.exitCode).toBe(4);
    const timedOut = await exec.run({ argv: ['sleep', '5'], timeoutMs: 100 }).catch((e: unknown) => e);
    expect((timedOut as Error).message).toMatch(/timed out after 100 ms/);
  });

  it('the fake records and answers from its canned responses; reads run, machine changes do not', async () => {
    const lines: string[] = [];
    const fake = new FakeExec((c) => (c.argv[0] === 'nft' ? { stdout: '{}' } : c.argv[0] === 'false' ? { exitCode: 1 } : undefined));
    const printing = new PrintingExec(fake, (l) => lines.push(l));
    expect((await printing.run({ argv: ['nft', '-j', 'list', 'ruleset'], netns: 'x' })).stdout).toBe('{}');
    await printing.run({ argv: ['rm', '-rf', '/'] });
    await expect(fake.run({ argv: ['false'] })).rejects.toBeInstanceOf(CommandError);
    expect(fake.transcript()).toEqual(['[x] nft -j list ruleset', 'rm -rf /', 'false']);
    expect(lines).toEqual(['+ [x] nft -j list ruleset', '+ rm -rf /']);
    expect(await printing.observe(async () => 'read', 'as made')).toBe('read');
    expect(
      await printing.alter(
        async () => 'changed',
        () => 'unchanged',
      ),
    ).toBe('unchanged');
  });

  it('the dry-run exec prints each command with its stdin, runs nothing, and answers reads as made', async () => {
    const lines: string[] = [];
    const dry = new DryRunExec((l) => lines.push(l));
    const r = await dry.run({ argv: ['ip', '-batch', '-'], netns: 'x', stdin: 'link add a\nlink add b\n' });
    expect(r).toMatchObject({ stdout: '', exitCode: 0 });
    dry.start({ argv: ['sleep', '100'] });
    expect(lines).toEqual(['+ [x] ip -batch - <<stdin (2 lines)\n    link add a\n    link add b', '+ sleep 100']);
    let read = false;
    expect(await dry.observe(async () => ((read = true), ['difference']), [])).toEqual([]);
    expect(
      await dry.alter(
        async () => ((read = true), 'changed'),
        () => 'unchanged',
      ),
    ).toBe('unchanged');
    expect(read).toBe(false);
  });
});
