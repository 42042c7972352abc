import type { Exec } from '../exec/index.js';
import { podsOn } from '../sandbox/plan.js';
import { IDENT_WORKLOAD, type BackendEnv } from './backend-sandbox.js';
import type { CaseResult } from './results.js';

// What broke in a backend's sandbox while the run had it: read when a case errors, so its reason
// names the cause (a server that was killed, a pod's veth that was deleted) and not only the
// symptom (connections refused or timed out, a path check that nobody answered).

/** The interface names of a namespace (`ip -o link show`: "2: vs0@if2: <…>"); undefined when the
 * listing is not one (a namespace that is gone, an exec that answers nothing). */
export function linkNames(listing: string): Set<string> | undefined {
  const names = new Set(listing.split('\n').flatMap((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? []));
  return names.has('lo') ? names : undefined;
}

/** The damage a case of `workload` meets: its dead servers and the ident servers (BackendEnv.gone),
 * and, per node, the veths of its pods and its external-facing veth that are no longer there. */
export async function sandboxDamage(exec: Exec, env: Pick<BackendEnv, 'sandbox' | 'gone'>, workload: string): Promise<string[]> {
  const { plan } = env.sandbox;
  const damage = env.gone.filter((g) => g.workload === workload || g.workload === IDENT_WORKLOAD).map((g) => g.text);
  for (const node of plan.nodes) {
    const r = await exec.run({ netns: node.netns, argv: ['ip', '-o', 'link', 'show'], allowFailure: true });
    const names = linkNames(r.stdout);
    if (names === undefined) continue;
    const expected = [
      ...podsOn(plan, node.index).map((p) => ({ name: p.nodeIf, of: `${p.role}'s veth` })),
      { name: node.extIf, of: 'the external veth' },
    ];
    for (const { name, of } of expected) if (!names.has(name)) damage.push(`${name} (${of}) is gone from ${node.netns}`);
  }
  return damage;
}

/** The results, judged against the sandbox's damage: an errored case's reason gets the damage as
 * its cause, and a completed case becomes errored, its measurement kept: a path that broke during
 * the window can leave a figure that looks measured (a connection stalled on a deleted veth for
 * the rest of the window is neither an error nor, within the client's timeout, a timeout). */
export async function withDamage(exec: Exec, env: Pick<BackendEnv, 'sandbox' | 'gone'>, results: CaseResult[]): Promise<CaseResult[]> {
  // The cases of one call share their workload (a case, or the paths of one paired unit).
  const judged = results.find((x) => x.state === 'errored' || x.state === 'completed');
  if (judged === undefined) return results;
  const damage = await exec.observe(() => sandboxDamage(exec, env, judged.workload), []);
  if (damage.length === 0) return results;
  const said = `the sandbox is damaged: ${damage.join('; ')}`;
  return results.map((x): CaseResult => {
    if (x.state === 'errored') return { ...x, reason: `${x.reason}; ${said}` };
    if (x.state !== 'completed') return x;
    const { cpu: _cpu, checkedBy: _checkedBy, profile: _profile, profileError: _profileError, ...kept } = x;
    return { ...kept, state: 'errored', reason: `measured while ${said}; its figures are not the path's` };
  });
}
