// A valid client result line and near misses, for every workload's parseResult tests.
import { LatencyRecorder } from '../client-kit.js';
import type { WorkloadResult } from '../types.js';

export function goodResult(): WorkloadResult {
  const latency = new LatencyRecorder();
  for (const us of [80, 95, 120, 130, 2500]) latency.record(us);
  return {
    ops: 5,
    durationMs: 1000.2,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    connectionsOpened: 5,
    bytes: 640,
    latencyUs: latency.summary(),
    cpuUs: { user: 1200, system: 800 },
    answeredBy: { 'srv-0': 5 },
  };
}

export const goodLine = (): string => `${JSON.stringify(goodResult())}\n`;

/** Outputs a client might print instead of a result, and what the error must mention. */
export const badOutputs: Array<[label: string, stdout: string, message: RegExp]> = [
  ['nothing', '', /printed nothing/],
  ['a log line', 'Running 1s test @ http://10.0.0.1:8080\n', /not JSON/],
  ['two lines', `${JSON.stringify(goodResult())}\n${JSON.stringify(goodResult())}\n`, /2 lines/],
  ['a result without ops', JSON.stringify({ ...goodResult(), ops: undefined }), /ops/],
  ['negative errors', JSON.stringify({ ...goodResult(), errors: -1 }), /errors/],
  ['latency in the wrong shape', JSON.stringify({ ...goodResult(), latencyUs: { p50: 1 } }), /latencyUs/],
];
