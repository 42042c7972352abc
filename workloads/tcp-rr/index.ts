// TCP request/response on persistent connections: p.messageSize bytes out, the same bytes back.
import { fromRoot } from '../../src/package-root.js';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const CLIENT = fromRoot('dist/workloads/tcp-rr/client.js');
const PORT = 7001;

export const tcpRr: Workload = {
  name: 'tcp-rr',
  title: 'TCP request/response (echo) on persistent connections',
  protocol: 'TCP',
  serverPort: PORT,
  opUnit: 'transactions',
  reportOrder: 4,
  perConnection: false,
  headline: 'p50',
  blocks: true,
  cpus: 'shared',
  // socat forks one child per connection; connections are persistent, so the fork is paid once
  // per connection, outside the measured transactions. PIPE echoes what it reads (socat(1):
  // "PIPE … writes to it and reads from it"). `nodelay` (TCP_NODELAY) because Nagle + delayed ACK
  // stalled multi-segment echoes here (64 KiB messages: 208 → 5,237 transactions/s on loopback);
  // -b 65536 reads up to 64 KiB per transfer instead of socat's default 8 KiB (→ 8,638/s).
  serverArgv: () => ['socat', '-b', '65536', `TCP4-LISTEN:${PORT},reuseaddr,fork,backlog=4096,nodelay`, 'PIPE'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p),
  parseResult: (stdout) => parseWorkloadResult('tcp-rr', stdout),
};
