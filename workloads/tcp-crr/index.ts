// TCP connect / request / response / close per operation: connection-setup cost and rate.
import { fileURLToPath } from 'node:url';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
const CLIENT = fileURLToPath(new URL('./client.js', import.meta.url));
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
