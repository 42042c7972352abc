import { answerWithin, type Prober } from '../probe/client.js';
import type { ProbeResult } from '../probe/connect.js';
import { chiSquareUniform } from '../stats/index.js';

// Conformance checks over real connections. Each returns pass/fail with a reason a person can act on.
// Each makes its connections through the Prober it is given, asking for all of them at once before
// it awaits any (probeTogether batches the independent checks of a step that way).

export interface CheckResult {
  name: string;
  pass: boolean;
  detail: string;
  /** Not checked, for the reason in `detail` (a backend's known limit): counted as passed. */
  skipped?: true;
}

export const check = (name: string, pass: boolean, detail: string): CheckResult => ({ name, pass, detail });

const describe_ = (r: ProbeResult | undefined): string =>
  r === undefined ? 'no result' : r.ok ? `answered by ${r.reply}` : `failed: ${r.error}`;

/** One new connection must be answered by one of `expected`. */
export async function answeredBy(
  probe: Prober,
  name: string,
  netns: string,
  target: string,
  expected: string[],
  udp = false,
): Promise<CheckResult> {
  const [r] = await probe(netns, [target], { udp, timeoutMs: answerWithin() });
  const pass = r !== undefined && r.ok && expected.includes(r.reply ?? '');
  return check(name, pass, `${target}${udp ? '/udp' : ''} ${describe_(r)}${pass ? '' : ` (expected ${expected.join(' or ')})`}`);
}

/** No answer within the timeout: the connection must not get through. */
export async function notAnswered(probe: Prober, name: string, netns: string, target: string): Promise<CheckResult> {
  const [r] = await probe(netns, [target], { timeoutMs: 1000 });
  const pass = r !== undefined && !r.ok;
  return check(name, pass, `${target} ${pass ? `blocked (${r!.error})` : describe_(r)}`);
}

/** Counts which endpoint answers each of n new connections. */
export async function spread(probe: Prober, netns: string, target: string, n: number): Promise<Map<string, number>> {
  const results = await probe(
    netns,
    Array.from({ length: n }, () => target),
    { timeoutMs: answerWithin(5000) },
  );
  const counts = new Map<string, number>();
  for (const r of results) {
    const key = r.ok ? (r.reply ?? '') : `error: ${r.error}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** kube-proxy's random selection must spread new connections evenly: Pearson's chi-square
 * against a uniform spread must not reject it at p ≤ 0.001. A rejection is confirmed on a fresh
 * sample of n, which alone decides (sequential testing: a fair spread fails both with probability
 * 10⁻⁶, where one test at 0.001 would fail about one suite run in fifty, as each runs about 18 of
 * these; a skewed rule such as probability 1/3 on every endpoint, an expected p near 10⁻⁵ at
 * n = 300, fails both). */
export async function spreadCheck(probe: Prober, netns: string, target: string, endpoints: string[], n = 300): Promise<CheckResult> {
  const name = `spread over ${endpoints.length} endpoints`;
  const first = await spreadSample(probe, netns, target, endpoints, n);
  // Only chi-square's verdict is a matter of chance: failed or stray connections decide at once.
  if (first.pass || !first.byChance) return check(name, first.pass, first.text);
  const again = await spreadSample(probe, netns, target, endpoints, n);
  return check(name, again.pass, `${first.text}; a fresh ${n}: ${again.text}`);
}

async function spreadSample(
  probe: Prober,
  netns: string,
  target: string,
  endpoints: string[],
  n: number,
): Promise<{ pass: boolean; byChance: boolean; text: string }> {
  const counts = await spread(probe, netns, target, n);
  const observed = endpoints.map((e) => counts.get(e) ?? 0);
  const stray = [...counts.keys()].filter((k) => !endpoints.includes(k));
  // No connection reached an endpoint (all failed, or --dry-run ran none): nothing to test the
  // spread of, and chi-square needs at least one observation.
  if (observed.every((o) => o === 0))
    return {
      pass: false,
      byChance: false,
      text: `${n} connections, none answered by an endpoint${stray.length ? `: ${stray.join(', ')}` : ''}`,
    };
  const { statistic, pValue } = chiSquareUniform(observed);
  const text = endpoints.map((e, i) => `${e}=${observed[i]}`).join(' ');
  return {
    pass: stray.length === 0 && pValue > 0.001,
    byChance: stray.length === 0,
    text: `${n} connections: ${text}; χ²=${statistic.toFixed(2)}, p=${pValue.toPrecision(3)}${stray.length ? `; unexpected: ${stray.join(', ')}` : ''}`,
  };
}

/** ClientIP affinity: every new connection from one client lands on the same endpoint. */
export async function affinityCheck(probe: Prober, netns: string, target: string, n = 30): Promise<CheckResult> {
  const counts = await spread(probe, netns, target, n);
  const pass = counts.size === 1 && ![...counts.keys()][0]!.startsWith('error');
  return check(
    'ClientIP affinity sticks',
    pass,
    `${n} connections answered by ${[...counts.entries()].map(([k, v]) => `${k}×${v}`).join(', ')}`,
  );
}

/** Polls new connections until `wanted` answers (an endpoint added by a partial sync). */
export async function reaches(
  probe: Prober,
  name: string,
  netns: string,
  target: string,
  wanted: string,
  tries = 64,
): Promise<CheckResult> {
  const counts = await spread(probe, netns, target, tries);
  const pass = (counts.get(wanted) ?? 0) > 0;
  return check(
    name,
    pass,
    `${tries} connections: ${[...counts.entries()].map(([k, v]) => `${k}×${v}`).join(', ')}${pass ? '' : ` (never ${wanted})`}`,
  );
}
