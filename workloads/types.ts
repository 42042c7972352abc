// The workload contract (DESIGN.md: one folder and one exported object per workload, registered
// only in workloads/index.ts). A workload has a server side, started once in every server pod, and
// a client side, run for each measurement in a client namespace (a pod, the node or the external
// namespace). Both are plain argv arrays run through the exec port; the client prints one JSON
// line that parseResult validates.

import type { WorkloadResult } from './result-schema.js';

export interface WorkloadParams {
  /**
   * Addresses the client drives, all on `port`: one for the Service paths (a cluster IP, or the
   * node IP for NodePort); every endpoint pod's IP for the pod path, where the client spreads its
   * connections over them itself (client-side balancing, as for a headless Service), so the
   * baseline ends at the same server pods as the Service paths.
   */
  hosts: string[];
  port: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  /** Load applied but not recorded, before the measured time. */
  warmupMs: number;
  /** Concurrent connections (or in-flight transactions). */
  connections: number;
  /** Fixed request rate (per second, over all connections) for tail latency with
   * coordinated-omission correction; workloads that cannot pace ignore it. */
  rate?: number;
  /** Payload size in bytes for request/response and stream workloads. */
  messageSize: number;
  /** Windows on the wall clock instead of one warm-up and one measured time (Workload.blocks):
   * `bench run`'s paired path blocks, where the clients of several paths take turns. */
  schedule?: Schedule;
}

/** A client's windows on the wall clock: load applied only inside them, recorded only in the
 * 'measure' ones, which the result reports one by one (WorkloadResult.blocks). Times are
 * milliseconds from `epochMs` (Date.now() of the bench process: one clock in every namespace of
 * the machine), so clients started together take turns without talking to each other. */
export interface Schedule {
  epochMs: number;
  windows: Window[];
}

export interface Window {
  kind: 'warmup' | 'measure';
  startMs: number;
  durationMs: number;
}

// What one client run measured is defined once, as the zod schema that validates it.
export type { WorkloadResult };

export interface Workload {
  name: string;
  title: string;
  protocol: 'TCP' | 'UDP';
  /** Port the server listens on in every server pod. */
  serverPort: number;
  /** What `ops` counts, for throughput: "requests", "transactions", "connections" or "bytes". */
  opUnit: string;
  /** Where reports, charts and `bench compare` list it, lowest first: connection-per-request
   * workloads first, their latency being the per-connection cost the findings ask about. */
  reportOrder: number;
  /** Each operation opens a new connection (connect, request, response, close), so its latency is
   * the per-connection cost: the growth finding and the latency chart's title say so. */
  perConnection: boolean;
  /** The metric the workload is judged by in the findings: p50 latency, or throughput for bulk
   * transfers, whose operations (reads of one long stream) have no latency worth charting. */
  headline: 'p50' | 'throughput';
  /** Measured by `bench run` when --workload is not given. */
  byDefault?: true;
  /** The client follows WorkloadParams.schedule, idle between its windows: `bench run` measures
   * its paths in alternating blocks and compares them pair by pair (src/run/paired.ts). */
  blocks?: true;
  /** Paces itself to --rate (coordinated-omission-corrected latency); the others ignore --rate. */
  paced?: true;
  /** Concurrent connections when --connections is not given (1 if absent). */
  defaultConnections?: number;
  /** Where `bench run` places the client and servers (src/run/pin.ts): 'shared', one CPU for both
   * (netperf -T: round trips of one process pair, whose cross-CPU wake-ups would otherwise
   * dominate and vary between runs); 'split', the client on a CPU of its own and the servers on
   * the others (a load generator kept off the servers' CPUs); unset, the scheduler's choice. */
  cpus?: 'shared' | 'split';
  /** argv of the long-running server in a pod named `podName` (it may answer with the name). */
  serverArgv(podName: string): string[];
  /** argv of one client run. */
  clientArgv(p: WorkloadParams): string[];
  /** Validates the client's stdout (zod) and returns the result. */
  parseResult(stdout: string): WorkloadResult;
}
