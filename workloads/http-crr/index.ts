// HTTP with a new TCP connection per request: the case where per-connection service lookup
// (iptables chain walk, nft map lookup, BPF connect hook) shows. Same server program as `http`
// on its own port, so both workloads can run in one pod.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fromRoot('dist/workloads/http/server.js');
const CLIENT = fromRoot('dist/workloads/http-crr/client.js');

export const httpCrr: Workload = {
  name: 'http-crr',
  title: 'HTTP/1.1, one new TCP connection per request',
  protocol: 'TCP',
  serverPort: 8081,
  opUnit: 'requests',
  reportOrder: 2,
  perConnection: true,
  blocks: true,
  headline: 'p50',
  serverArgv: (podName) => [process.execPath, SERVER, '--name', podName, '--port', '8081'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p),
  parseResult: (stdout) => parseWorkloadResult('http-crr', stdout),
};
