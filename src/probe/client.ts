import { fileURLToPath } from 'node:url';
import type { Exec } from '../exec/index.js';
import { startupSlowdown } from '../guest/detect.js';
import type { ProbeResult } from './connect.js';

// The prober and the conformance server are run by path with the same Node binary, inside a
// namespace, through the exec port.
export const PROBE_SCRIPT = fileURLToPath(new URL('./connect.js', import.meta.url));
export const SERVE_SCRIPT = fileURLToPath(new URL('./serve.js', import.meta.url));

export async function probe(
  exec: Exec,
  netns: string,
  targets: string[],
  opts: { timeoutMs?: number; udp?: boolean; connectOnly?: boolean } = {},
): Promise<ProbeResult[]> {
  const args = [
    '--timeout',
    String(opts.timeoutMs ?? 2000),
    ...(opts.udp ? ['--udp'] : []),
    ...(opts.connectOnly ? ['--connect-only'] : []),
    ...targets,
  ];
  const r = await exec.run({ netns, argv: [process.execPath, PROBE_SCRIPT, ...args] });
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeResult);
}

/** Waits until every target accepts connections (servers take a moment to bind; much longer in an
 * emulated guest kernel). */
export async function waitListening(exec: Exec, netns: string, targets: string[], timeoutMs = 15_000 * startupSlowdown()): Promise<void> {
  await exec.observe(async () => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await probe(exec, netns, targets, { timeoutMs: 500, connectOnly: true });
      if (r.every((x) => x.ok)) return;
      if (Date.now() > deadline)
        throw new Error(
          `servers not listening: ${r
            .filter((x) => !x.ok)
            .map((x) => `${x.target} ${x.error}`)
            .join(', ')}`,
        );
      await new Promise((res) => setTimeout(res, 100));
    }
  }, undefined);
}
