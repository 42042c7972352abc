import { describe, expect, it } from 'vitest';
import { allowedCpus, pinned, planCpus } from './pin.js';

describe('CPU placement of workloads', () => {
  it('reads the CPUs this process may use from /proc/self/status', () => {
    expect(allowedCpus('Name:\tnode\nCpus_allowed:\t4f\nCpus_allowed_list:\t0-3,6\n')).toEqual([0, 1, 2, 3, 6]);
    expect(allowedCpus('Cpus_allowed_list:\t1\n')).toEqual([1]);
    expect(allowedCpus('Name:\tnode\n')).toEqual([]);
  });

  it('shares the last CPU, gives the load generator the first and the servers the rest; nothing below two CPUs', () => {
    expect(planCpus([0, 1])).toEqual({ shared: 1, loadGenerator: 0, servers: '1' });
    expect(planCpus([0, 1, 2, 3, 6])).toEqual({ shared: 6, loadGenerator: 0, servers: '1,2,3,6' });
    expect(planCpus([3])).toBeUndefined();
  });

  it('puts shared and split workloads under taskset on their CPUs, and nothing else', () => {
    const plan = planCpus([0, 1, 2])!;
    expect(pinned({ cpus: 'shared' }, plan, 'server', ['socat', 'PIPE'])).toEqual(['taskset', '-c', '2', 'socat', 'PIPE']);
    expect(pinned({ cpus: 'shared' }, plan, 'client', ['node', 'c.js'])).toEqual(['taskset', '-c', '2', 'node', 'c.js']);
    expect(pinned({ cpus: 'split' }, plan, 'client', ['node', 'c.js'])).toEqual(['taskset', '-c', '0', 'node', 'c.js']);
    expect(pinned({ cpus: 'split' }, plan, 'server', ['node', 's.js'])).toEqual(['taskset', '-c', '1,2', 'node', 's.js']);
    expect(pinned({}, plan, 'server', ['node', 'server.js'])).toEqual(['node', 'server.js']);
    expect(pinned({ cpus: 'shared' }, undefined, 'server', ['socat', 'PIPE'])).toEqual(['socat', 'PIPE']);
  });
});
