import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RealExec } from '../../src/exec/index.js';

describe('exec port, for real', () => {
  it.runIf(process.getuid?.() === 0 && existsSync('/sys/fs/cgroup/unified/cgroup.procs'))(
    'a started process is in the cgroup from its first instruction',
    async () => {
      const dir = mkdtempSync('/sys/fs/cgroup/unified/svcbench-exec-test-');
      try {
        const r = await new RealExec().run({ argv: ['cat', '/proc/self/cgroup'], cgroup: dir });
        expect(r.stdout).toContain(`0::/${basename(dir)}\n`);
      } finally {
        rmdirSync(dir);
      }
    },
  );
});
