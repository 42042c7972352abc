// HTTP request/response over keep-alive connections (autocannon). See client.ts and server.ts.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fromRoot('dist/workloads/http/server.js');
const CLIENT = fromRoot('dist/workloads/http/client.js');

export const http: Workload = {
  name: 'http',
  title: 'HTTP/1.1 requests over keep-alive connections',
  protocol: 'TCP',
  serverPort: 8080,
  opUnit: 'requests',
  reportOrder: 3,
  perConnection: false,
  headline: 'p50',
  byDefault: true,
  blocks: true,
  paced: true,
  // The load generator runs on a CPU of its own, the servers on the others (src/run/pin.ts).
  // Six keep-alive connections, two per endpoint pod at the default --endpoints 3: with one per
  // pod, each of three servers sharing one CPU is woken for every single request; from two per
  // pod the servers' CPU is the limit (figures: workloads/README.md). autocannon itself defaults to 10.
  defaultConnections: 6,
  cpus: 'split',
  serverArgv: (podName) => [process.execPath, SERVER, '--name', podName, '--port', '8080'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p, { rate: true }),
  parseResult: (stdout) => parseWorkloadResult('http', stdout),
};
