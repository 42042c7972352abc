// The only registry of workloads (DESIGN.md, layout). Everything else looks workloads up here.
import { http } from './http/index.js';
import { httpCrr } from './http-crr/index.js';
import { stream } from './stream/index.js';
import { tcpCrr } from './tcp-crr/index.js';
import { tcpRr } from './tcp-rr/index.js';
import type { Workload } from './types.js';
import { udpRr } from './udp-rr/index.js';

export const WORKLOADS: readonly Workload[] = [http, httpCrr, tcpRr, tcpCrr, udpRr, stream];
export const WORKLOAD_NAMES = WORKLOADS.map((w) => w.name);

export function workloadByName(name: string): Workload | undefined {
  return WORKLOADS.find((w) => w.name === name);
}

export type { Workload, WorkloadParams, WorkloadResult } from './types.js';
