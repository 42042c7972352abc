// Bulk TCP transfer, server to client: throughput in bytes per second.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const CLIENT = fromRoot('dist/workloads/stream/client.js');
const PORT = 7004;

export const stream: Workload = {
  name: 'stream',
  title: 'Bulk TCP transfer, server to client (throughput)',
  protocol: 'TCP',
  serverPort: PORT,
  opUnit: 'bytes',
  reportOrder: 6,
  perConnection: false,
  headline: 'throughput',
  blocks: true,
  // socat, unidirectional right to left (-U): each connection gets a child that reads /dev/zero
  // and writes it to the client in 128 KiB writes (-b) until the client goes away. The transfer
  // is server → client, the direction that crosses a Service's reverse NAT. When the client
  // closes, the child's next write fails (ECONNRESET/EPIPE): socat logs that one line and exits.
  serverArgv: () => ['socat', '-U', '-b', '131072', `TCP4-LISTEN:${PORT},reuseaddr,fork,backlog=1024`, 'OPEN:/dev/zero'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p),
  parseResult: (stdout) => parseWorkloadResult('stream', stdout),
};
