import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeExec } from '../exec/index.js';
import { memoryCgroupName, memorySupport, openMemoryProbe, parseMemoryStat, parseTimed, timedArgv } from './memory.js';
import { removeCgroup } from './run-cgroup.js';
import { ownCgroupV1Dir } from '../host/kernel.js';
import { tempDirs } from '../../test/temp-dirs.js';

describe('GNU time', () => {
  it('wraps the command and reads its marked line back out of stderr', () => {
    expect(timedArgv(['nft', '-f', '-'])).toEqual(['/usr/bin/time', '-f', 'svcbench-time %M %e', 'nft', '-f', '-']);
    expect(parseTimed('svcbench-time 5432 0.07\n')).toEqual({ peakRssKiB: 5432, elapsedS: 0.07, stderr: '' });
    expect(parseTimed('Error: x\nline\nCommand exited with non-zero status 1\nsvcbench-time 900 0.00\n')).toEqual({
      peakRssKiB: 900,
      elapsedS: 0,
      stderr: 'Error: x\nline\nCommand exited with non-zero status 1\n',
    });
    expect(parseTimed('no time line\n')).toEqual({ stderr: 'no time line\n' });
  });
});

describe('memory.stat', () => {
  it('parses keys and byte counts', () => {
    const s = parseMemoryStat('anon 1234\nfile 0\nkernel 81920\nslab_unreclaimable 40960\n');
    expect(s.get('kernel')).toBe(81920);
    expect(s.get('slab_unreclaimable')).toBe(40960);
    expect(s.size).toBe(4);
  });
});

describe('memorySupport', () => {
  const newDir = tempDirs('svcb-memtest-');
  const root = (controllers: string, subtree: string): string => {
    const d = newDir();
    writeFileSync(join(d, 'cgroup.controllers'), controllers);
    writeFileSync(join(d, 'cgroup.subtree_control'), subtree);
    return d;
  };

  const noV1 = () => undefined;
  it('needs the memory controller enabled for the root children', () => {
    expect(memorySupport(() => root('cpu memory pids\n', 'cpu memory\n'), noV1)).toMatchObject({ ok: true, version: 2 });
    expect(memorySupport(() => root('cpu memory\n', 'cpu\n'), noV1)).toMatchObject({
      ok: false,
      reason: /does not enable the memory controller/,
    });
    expect(memorySupport(() => root('hugetlb\n', '\n'), noV1)).toMatchObject({ ok: false, reason: /no memory controller .*hybrid/ });
    expect(memorySupport(() => undefined, noV1)).toEqual({ ok: false, reason: 'no cgroup2 mount' });
  });
  it('falls back to this process own cgroup v1 memory cgroup, never the v1 root', () => {
    const d = newDir();
    writeFileSync(join(d, 'memory.max_usage_in_bytes'), '0\n');
    const hybrid = () => root('hugetlb\n', '\n');
    expect(memorySupport(hybrid, () => ({ dir: d, path: '/process_api/x' }))).toEqual({ ok: true, version: 1, root: d });
    expect(memorySupport(hybrid, () => ({ dir: d, path: '/' }))).toMatchObject({ ok: false, reason: /root of the cgroup v1 memory/ });
  });
  it('finds its own v1 cgroup from mountinfo and /proc/self/cgroup', () => {
    const mi = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    const cg = '4:memory:/process_api/21d2\n1:cpu:/\n0::/\n';
    expect(ownCgroupV1Dir('memory', mi, cg)).toEqual({ dir: '/sys/fs/cgroup/memory/process_api/21d2', path: '/process_api/21d2' });
    expect(ownCgroupV1Dir('cpu', mi, cg)).toEqual({ dir: '/sys/fs/cgroup/cpu', path: '/' });
    expect(ownCgroupV1Dir('pids', mi, cg)).toBeUndefined();
    // a mount of a subtree: the path is relative to the mount's root
    expect(ownCgroupV1Dir('memory', '35 31 0:32 /process_api /mnt/mem rw - cgroup cgroup rw,memory', cg)?.dir).toBe('/mnt/mem/21d2');
  });
});

describe('openMemoryProbe', () => {
  it('records the run memory cgroup before creating it; a dry run only prints the timed command', async () => {
    const recorded: unknown[] = [];
    const exec = new FakeExec();
    const probe = await openMemoryProbe(
      exec,
      'abc123',
      { record: async (o) => void recorded.push(...o) },
      { ok: true, version: 2, root: '/sys/fs/cgroup' },
    );
    expect(recorded).toEqual([{ kind: 'cgroup', path: `/sys/fs/cgroup/${memoryCgroupName('abc123')}` }]);
    expect(memoryCgroupName('abc123')).toBe('svcb-abc123-mem');
    const { memory } = await probe.run({ netns: 'svcb-abc123-node', argv: ['nft', '-f', '-'], stdin: 'x' });
    expect(memory).toEqual({});
    expect(exec.transcript()).toEqual(["[svcb-abc123-node] /usr/bin/time -f 'svcbench-time %M %e' nft -f - <<stdin (1 lines)"]);
  });
  it('without cgroup v2 memory: no cgroup, peak RSS only', async () => {
    const exec = new FakeExec(() => ({ stderr: 'svcbench-time 2048 0.01\n' }));
    const probe = await openMemoryProbe(exec, 'abc123', { record: async () => {} }, { ok: false, reason: 'no cgroup2 mount' });
    expect(probe.cgroup).toBeUndefined();
    expect((await probe.run({ argv: ['true'] })).memory).toEqual({ peakRssKiB: 2048 });
  });
});

describe('removeCgroup', () => {
  it('removes child directories first', async () => {
    const d = mkdtempSync(join(tmpdir(), 'svcb-cgtest-'));
    mkdirSync(join(d, 's1', 'deeper'), { recursive: true });
    mkdirSync(join(d, 's2'));
    expect(await removeCgroup(d)).toBe(true);
    expect(existsSync(d)).toBe(false);
  });
});
