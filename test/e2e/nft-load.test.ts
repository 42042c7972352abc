// Loads rendered transactions into the kernel and reads them back. Runs only as root (CI
// runs as root), and only inside `unshare --net`: a throwaway network namespace that
// vanishes with the process, so nothing ever touches the root namespace's ruleset.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterState } from '../../src/model/types.js';
import { cfg, largeState, smallState, smallStateNext } from '../../src/model/test-support/states.js';
import { diff, diffRuleText, parseListingRules, readback } from '../../backends/nft/readback.js';
import * as render from '../../backends/nft/render.js';
import { staleObjects } from '../../backends/nft/render.js';
import { KUBE_PROXY_PROFILES, type KubeProxyProfile } from '../../backends/nft/profiles.js';
import type { RenderResult } from '../../backends/nft/render.js';

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'svcbench-nft-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Step {
  name: string;
  result: RenderResult;
}

/**
 * Applies the steps in order in one fresh network namespace; after each, lists the table as
 * JSON and as text. Returns [json, text] per step.
 */
function applyInThrowawayNamespace(steps: Step[]): Array<{ json: string; text: string }> {
  const args: string[] = [];
  let script = 'set -e\n';
  steps.forEach((s, i) => {
    const file = join(dir, `${s.name}.nft`);
    // What the backend's apply adds from its listing: stale chains flushed, stale affinity sets deleted.
    const prev = steps[i - 1]?.result.desired;
    const stale = prev === undefined ? [] : staleObjects(s.result, { chains: prev.chains.keys(), sets: prev.sets.keys() }).lines;
    writeFileSync(file, s.result.script + stale.map((l) => `${l}\n`).join(''));
    args.push(file, join(dir, `${s.name}.json`), join(dir, `${s.name}.txt`));
    const n = i * 3 + 1;
    script += `nft -f "\${${n}}"\nnft -j list table ip kube-proxy > "\${${n + 1}}"\nnft list table ip kube-proxy > "\${${n + 2}}"\n`;
  });
  execFileSync('unshare', ['--net', 'sh', '-c', script, 'sh', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  return steps.map((s) => ({
    json: readFileSync(join(dir, `${s.name}.json`), 'utf8'),
    text: readFileSync(join(dir, `${s.name}.txt`), 'utf8'),
  }));
}

function expectInstalled(step: Step, listing: { json: string; text: string }): void {
  // Flushed stale chains stay until their deferred delete (sync-work.ts).
  const have = readback(listing.json);
  for (const [name, c] of have.chains) if (!step.result.desired.chains.has(name) && c.rules.length === 0) have.chains.delete(name);
  expect({ step: step.name, diff: diff(step.result.desired, have, { max: 20 }) }).toEqual({ step: step.name, diff: [] });
  expect({ step: step.name, diff: diffRuleText(step.result.desired, parseListingRules(listing.text), { max: 20 }) }).toEqual({
    step: step.name,
    diff: [],
  });
}

describe.runIf(isRoot).each(KUBE_PROXY_PROFILES.map((p) => [p]))(
  'kube-proxy %s: nft transactions in a throwaway network namespace',
  (profile: KubeProxyProfile) => {
    const renderFull = (s: Parameters<typeof render.renderFull>[0], c: typeof cfg, o: render.RenderOptions = {}) =>
      render.renderFull(s, c, { profile, ...o });
    const renderPartial = (p: Parameters<typeof render.renderPartial>[0], n: Parameters<typeof render.renderPartial>[1], c: typeof cfg) =>
      render.renderPartial(p, n, c, { profile });
    it('loads a full sync, then partial syncs, and reads back exactly the desired table', () => {
      const next2: ClusterState = { ...smallStateNext, endpoints: { ...smallStateNext.endpoints, 'ns2/svc2': [] } };
      const steps: Step[] = [
        { name: 'full', result: renderFull(smallState, cfg) },
        { name: 'partial', result: renderPartial(smallState, smallStateNext, cfg) },
        // Verdict change (delete + add element) and removal of the last endpoint of svc2.
        { name: 'partial2', result: renderPartial(smallStateNext, next2, cfg) },
        // A later full sync over the installed table: elements diffed, nothing flushed.
        { name: 'resync', result: renderFull(smallState, cfg, { installed: renderFull(next2, cfg).desired, recreateBaseChains: false }) },
      ];
      const listings = applyInThrowawayNamespace(steps);
      steps.forEach((s, i) => expectInstalled(s, listings[i] as { json: string; text: string }));
    });

    it('loads 500 services and a partial sync that adds, changes and removes services', () => {
      const before = largeState(500, 3);
      const after = largeState(500, 3);
      after.services.splice(10, 5); // five services removed
      after.endpoints['ns20/svc20'] = [{ ip: '10.250.0.1', local: false }];
      after.endpoints['ns21/svc21'] = [];
      const steps: Step[] = [
        { name: 'large-full', result: renderFull(before, cfg) },
        { name: 'large-partial', result: renderPartial(before, after, cfg) },
      ];
      const listings = applyInThrowawayNamespace(steps);
      steps.forEach((s, i) => expectInstalled(s, listings[i] as { json: string; text: string }));
      expect(steps[1]?.result.stats.servicesWritten).toBe(2);
    });
  },
);
