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
  serverArgv: (podName) => [process.execPath, SERVER, '--name', podName, '--port', '8080'],
  clientArgv: (p) => nodeClientArgv(CLIENT, p, { rate: true }),
  parseResult: (stdout) => parseWorkloadResult('http', stdout),
};
