import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bench, isRoot, processesMentioning, rootSnapshot } from '../helpers.js';
import { guestHooks, guestId } from './guest-helpers.js';

// The ipvs backend where it can run: inside Debian's kernel booted by the guest runner (src/guest),
// since this machine's kernel has no IP_VS. Emulation (TCG) makes this one verify take minutes, so
// the file runs exactly one, on two nodes: its checks hold the single node's and every cross-node
// one (another node's pod, Local policy with and without a local endpoint). Issue 18 asks for three
// nodes and lets CI run the guest one reduced; three took 82 s alone against 70 s for two (one
// vCPU), and `bench verify --backend ipvs --kernel guest --nodes 3` passes its 22 checks too.
// One vCPU: beside another file's work, two vCPUs spin against each other on this 2-core machine
// (src/guest/README.md: 185 s and 184 CPU-s against 95 s and 94 CPU-s beside one busy process).

const GUEST_TIMEOUT_MS = 20 * 60_000;

describe.runIf(isRoot)('bench verify --backend ipvs --kernel guest', () => {
  const before = guestHooks();

  it(
    "passes the conformance suite on two nodes in the guest kernel with kube-proxy's IPVS mode, leaving nothing on the host",
    async () => {
      const r = await bench(['verify', '--backend', 'ipvs', '--kernel', 'guest', '--nodes', '2', '--guest-cpus', '1'], {
        timeoutMs: GUEST_TIMEOUT_MS,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ipvs: all \d+ checks passed/);
      // The cross-node checks: SNAT to node 0's IP one hop further, the client IP kept under Local,
      // no answer where Local has no endpoint, and internalTrafficPolicy Local.
      expect(r.stderr).toMatch(/nodeport-remote: .*pass .*which saw 198\.18\.0\.1 at TTL 62 \(2 hop\(s\)\)/);
      expect(r.stderr).toMatch(/nodeport-local: .*pass .*which saw 198\.18\.0\.2 at TTL 63/);
      expect(r.stderr).toMatch(/nodeport-local-miss: .*pass .*blocked/);
      expect(r.stderr).toMatch(/internaltrafficpolicy-local: .*pass/);
      expect(r.stderr).toMatch(/internaltrafficpolicy-local-miss: .*pass .*blocked/);
      expect(r.stderr).toMatch(/read-back after full sync\s+pass/);
      expect(r.stderr).toMatch(/read-back after partial sync\s+pass/);
      const id = guestId(r.stderr);
      expect(id, r.stderr).toBeDefined();
      expect(processesMentioning(`svcbench-guest-${id}`)).toEqual([]);
      expect(existsSync(`/tmp/svcbench-guest-${id}`)).toBe(false);
      expect(existsSync(`/run/svcbench/${id}.json`)).toBe(false);
      expect(await rootSnapshot()).toEqual(before());
    },
    GUEST_TIMEOUT_MS,
  );
});
