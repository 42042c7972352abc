// HTTP request/response over keep-alive connections (autocannon). See client.ts and server.ts.
import { fileURLToPath } from 'node:url';
import { nodeClientArgv } from '../client-kit.js';
import { parseWorkloadResult } from '../result-schema.js';
import type { Workload } from '../types.js';

const SERVER = fileURLToPath(new URL('./server.js', import.meta.url));
const CLIENT = fileURLToPath(new URL('./client.js', import.meta.url));

export const http: Workload = {
  name: 'http',
  title: 'HTTP/1.1 requests over keep-alive connections',
  protocol: 'TCP',
  serverPort: 8080,
  opUnit: 'requests',
  // Three keep-alive connections, one per endpoint pod at the default --endpoints 3 (the pod path
  // gives connection i to pod i mod n). With one, each request waits for autocannon's own ≈50 µs
  // of JavaScript per response and the rate measures the client (0.67× wrk's on the same server,
  // scripts/bench-loadgen.ts); with 3, wrk and autocannon both keep the server busy (0.91–0.94×).
  // autocannon itself defaults to 10.
  defaultConnections: 3,
  serverArgv: (podName) => [process.execPath, SERVER, '--name', podName, '--port', '8080'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p, { rate: true }),
  parseResult: (stdout) => parseWorkloadResult('http', stdout),
};
