// TCP connect / request / response / close per operation: connection-setup cost and rate.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fromRoot('dist/workloads/tcp-crr/server.js');
const CLIENT = fromRoot('dist/workloads/tcp-crr/client.js');
const PORT = 7003;

export const tcpCrr: Workload = {
  name: 'tcp-crr',
  title: 'TCP connect, request/response, close (one connection per transaction)',
  protocol: 'TCP',
  serverPort: PORT,
  opUnit: 'connections',
  reportOrder: 1,
  perConnection: true,
  headline: 'p50',
  byDefault: true,
  blocks: true,
  serverArgv: () => [process.execPath, SERVER, '--port', String(PORT)],
  clientArgv: (p) => nodeClientArgv(CLIENT, p),
  parseResult: (stdout) => parseWorkloadResult('tcp-crr', stdout),
};
