import type { Exec } from '../exec/index.js';
import { startupSlowdown } from '../guest/detect.js';
import { fromRoot } from '../package-root.js';
import type { ProbeRequest, ProbeResult } from './connect.js';
import { PROBE_TIMEOUT_MS } from './reply.js';

// The prober and the conformance server are run by path with the same Node binary, inside a
// namespace, through the exec port.
export const PROBE_SCRIPT = fromRoot('dist/src/probe/connect.js');
export const SERVE_SCRIPT = fromRoot('dist/src/probe/serve.js');

export async function probe(
  exec: Exec,
  netns: string,
  targets: string[],
  opts: ProbeOptions & { connectOnly?: boolean } = {},
): Promise<ProbeResult[]> {
  const args = [
    '--timeout',
    String(opts.timeoutMs ?? PROBE_TIMEOUT_MS),
    ...(opts.udp ? ['--udp'] : []),
    ...(opts.connectOnly ? ['--connect-only'] : []),
    ...targets,
  ];
  const r = await exec.run({ netns, argv: [process.execPath, PROBE_SCRIPT, ...args] });
  return parseResults(r.stdout);
}

/** How long a probe that expects an answer waits for one: in a guest kernel (qemu TCG) the prober
 * and the servers run many times slower than on the host, and a loaded host slows them further
 * (a 2 s wait timed out there on the first connections of a batch whose 300 later ones were
 * answered), so it waits startupSlowdown() times longer. A probe that expects no answer keeps its
 * timeout: that is the check's own wait, and a timeout is its pass. */
export const answerWithin = (ms: number = PROBE_TIMEOUT_MS): number => ms * startupSlowdown();

export interface ProbeOptions {
  timeoutMs?: number;
  udp?: boolean;
}

/** probe() without the exec port: what a check needs to make its connections. */
export type Prober = (netns: string, targets: string[], opts?: ProbeOptions) => Promise<ProbeResult[]>;

/** Runs independent checks together: the connections they ask for through the Prober they are
 * given are made by one prober process per namespace (connect.js --batch), the namespaces at
 * once, and each check gets its own results. Under an emulated guest kernel every Node process
 * takes a second or more to start, so a verify's checks no longer start one each. Resolves to the
 * checks' results in the order built; a failed command rejects, once every check has settled. */
export async function probeTogether<T>(exec: Exec, build: (probe: Prober) => Promise<T>[]): Promise<T[]> {
  const byNetns = new Map<
    string,
    {
      requests: ProbeRequest[];
      waiters: { from: number; count: number; resolve: (r: ProbeResult[]) => void; reject: (e: unknown) => void }[];
    }
  >();
  let started = false;
  const batched: Prober = (netns, targets, opts = {}) =>
    // A check that asks only after the batch has started gets a process of its own.
    started
      ? probe(exec, netns, targets, opts)
      : new Promise((resolve, reject) => {
          const b = byNetns.get(netns) ?? { requests: [], waiters: [] };
          byNetns.set(netns, b);
          b.waiters.push({ from: b.requests.length, count: targets.length, resolve, reject });
          b.requests.push(
            ...targets.map((target) => ({ target, ...(opts.udp ? { udp: true } : {}), timeoutMs: opts.timeoutMs ?? PROBE_TIMEOUT_MS })),
          );
        });
  const settled = Promise.allSettled(build(batched));
  // Every check has asked for its connections by now: each asks before its first await of them.
  await new Promise((r) => setImmediate(r));
  started = true;
  const runs = await Promise.allSettled(
    [...byNetns].map(async ([netns, b]) => {
      try {
        const r = await exec.run({
          netns,
          argv: [process.execPath, PROBE_SCRIPT, '--batch'],
          stdin: b.requests.map((q) => JSON.stringify(q)).join('\n') + '\n',
        });
        const results = parseResults(r.stdout);
        for (const w of b.waiters) w.resolve(results.slice(w.from, w.from + w.count));
      } catch (e) {
        for (const w of b.waiters) w.reject(e);
        throw e;
      }
    }),
  );
  const checks = await settled;
  const failed = [...runs, ...checks].find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
  return checks.map((c) => (c as PromiseFulfilledResult<T>).value);
}

const parseResults = (stdout: string): ProbeResult[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ProbeResult);

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
