// UDP request/response: one datagram out, the same datagram back; lost datagrams are timeouts.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fromRoot('dist/workloads/udp-rr/server.js');
const CLIENT = fromRoot('dist/workloads/udp-rr/client.js');
const PORT = 7002;

export const udpRr: Workload = {
  name: 'udp-rr',
  title: 'UDP request/response (echo), per-datagram timeout counts loss',
  protocol: 'UDP',
  serverPort: PORT,
  opUnit: 'transactions',
  reportOrder: 5,
  perConnection: false,
  headline: 'p50',
  blocks: true,
  cpus: 'shared',
  serverArgv: () => [process.execPath, SERVER, '--port', String(PORT)],
  clientArgv: (p) => nodeClientArgv(CLIENT, p),
  parseResult: (stdout) => parseWorkloadResult('udp-rr', stdout),
};
