import { describe, expect, it } from 'vitest';
import { allowedCpus, pinned } from './pin.js';

describe('CPU pinning of round-trip workloads', () => {
  it('reads the CPUs this process may use from /proc/self/status', () => {
    expect(allowedCpus('Name:\tnode\nCpus_allowed:\t4f\nCpus_allowed_list:\t0-3,6\n')).toEqual([0, 1, 2, 3, 6]);
    expect(allowedCpus('Cpus_allowed_list:\t1\n')).toEqual([1]);
    expect(allowedCpus('Name:\tnode\n')).toEqual([]);
  });

  it('puts a sameCpu workload under taskset on the shared CPU, and nothing else', () => {
    expect(pinned({ sameCpu: true }, 1, ['socat', 'PIPE'])).toEqual(['taskset', '-c', '1', 'socat', 'PIPE']);
    expect(pinned({}, 1, ['node', 'server.js'])).toEqual(['node', 'server.js']);
    expect(pinned({ sameCpu: true }, undefined, ['socat', 'PIPE'])).toEqual(['socat', 'PIPE']);
  });
});
