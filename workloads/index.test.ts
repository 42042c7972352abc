import { readdirSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKLOAD_NAMES, WORKLOADS, workloadByName } from './index.js';

describe('workload registry', () => {
  it('names each workload once, and gives each its own place in reports', () => {
    expect(new Set(WORKLOAD_NAMES).size).toBe(WORKLOADS.length);
    expect(new Set(WORKLOADS.map((w) => w.reportOrder)).size).toBe(WORKLOADS.length);
  });

  it('has one folder per workload, named as the workload', () => {
    const here = new URL('.', import.meta.url).pathname;
    const folders = readdirSync(here).filter((f) => statSync(here + f).isDirectory() && f !== 'test-support');
    expect(folders.sort()).toEqual([...WORKLOAD_NAMES].sort());
  });

  it('gives every server its own port, so all can run in one pod', () => {
    const ports = WORKLOADS.map((w) => `${w.protocol}/${w.serverPort}`);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('finds workloads by name', () => {
    expect(workloadByName('tcp-crr')?.opUnit).toBe('connections');
    expect(workloadByName('nope')).toBeUndefined();
  });
});
