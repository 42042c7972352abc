import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bench,
  exec,
  isRoot,
  ourNamespaces,
  probe,
  requireBuild,
  rootSnapshot,
  startIdentServers,
  startReplyServers,
  stateFiles,
  waitListening,
} from '../helpers.js';

// Real network namespaces (CI runs as root). Each test leaves nothing behind.

interface UpJson {
  runId: string;
  buildSeconds: number;
  node: { netns: string; ip: string };
  nodes?: { netns: string; ip: string; podCidr: string }[];
  external: { netns: string; ip: string };
  pods: { name: string; netns: string; ip: string; node?: number }[];
}

async function up(args: string[]): Promise<UpJson> {
  const r = await bench(['up', '--json', ...args]);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as UpJson;
}

describe.runIf(isRoot)('sandbox topology (real namespaces)', () => {
  let before: Record<string, string>;
  beforeAll(async () => {
    requireBuild();
    expect(ourNamespaces(), 'a previous run left namespaces; run bench clean').toEqual([]);
    before = await rootSnapshot();
  });
  afterAll(async () => {
    await bench(['clean']);
  });

  it('builds 50 pods with TCP between every pair and from external to node, then removes it all', async () => {
    const sb = await up(['--pods', '50']);
    try {
      expect(ourNamespaces(sb.runId)).toHaveLength(53);
      expect(stateFiles()).toContain(`${sb.runId}.json`);
      startReplyServers(sb.pods.map((p) => ({ netns: p.netns, reply: p.name, port: 7000 })));
      startReplyServers([{ netns: sb.node.netns, reply: 'node', port: 7000 }]);
      await waitListening(
        sb.pods[0]!.netns,
        sb.pods.map((p) => `${p.ip}:7000`),
      );
      // Every pod connects to every other pod and must be answered by that pod.
      const results = await Promise.all(
        sb.pods.map(async (from) => {
          const targets = sb.pods.filter((p) => p !== from);
          // 2,550 connections, each forking a socat child and an echo, on two cores: allow time.
          const r = await probe(
            from.netns,
            targets.map((t) => `${t.ip}:7000`),
            { timeoutMs: 15_000 },
          );
          return r.map((x, i) => ({ from: from.name, to: targets[i]!.name, ok: x.ok, reply: x.reply, error: x.error }));
        }),
      );
      const flat = results.flat();
      expect(flat).toHaveLength(51 * 50);
      expect(flat.filter((x) => !x.ok || x.reply !== x.to)).toEqual([]);
      const ext = await probe(sb.external.netns, [`${sb.node.ip}:7000`]);
      expect(ext[0]).toMatchObject({ ok: true, reply: 'node' });
    } finally {
      const down = await bench(['down', sb.runId]);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(down.stderr).toMatch(/removed sandbox \w+ \(53 namespaces\) in \d+\.\d+ s/);
    }
    expect(ourNamespaces(sb.runId)).toEqual([]);
    expect(stateFiles()).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
  });

  it('--nodes 3: pods on three nodes reach each other via the node IPs (one more hop across nodes), then all goes', async () => {
    const sb = await up(['--pods', '50', '--nodes', '3']);
    try {
      // 3 nodes, the underlay, the external namespace, 50 server pods and a client pod.
      expect(ourNamespaces(sb.runId)).toHaveLength(56);
      expect(sb.nodes!.map((n) => n.ip)).toEqual(['198.18.0.1', '198.18.0.3', '198.18.0.4']);
      expect(sb.pods.filter((p) => p.node === 1)).toHaveLength(17);
      const servers = sb.pods.filter((p) => p.name.startsWith('srv-')).slice(0, 6);
      const client = sb.pods.find((p) => p.name === 'cli-0')!;
      startIdentServers(servers.map((p) => ({ netns: p.netns, name: p.name, port: 7000 })));
      await waitListening(
        client.netns,
        servers.map((p) => `${p.ip}:7000`),
      );
      const r = await probe(
        client.netns,
        servers.map((p) => `${p.ip}:7000`),
      );
      // The server sees the client pod's own address; the TTL tells the hops: one router (the
      // client's node) on the same node, two (and the bridge, which is no router) across nodes.
      expect(r.map((x, i) => [x.reply, x.peer, x.ttl, servers[i]!.node])).toEqual(
        servers.map((p) => [p.name, client.ip, p.node === 0 ? 63 : 62, p.node]),
      );
      // The external client reaches every node IP over the underlay.
      startReplyServers(sb.nodes!.map((n) => ({ netns: n.netns, reply: n.netns, port: 7000 })));
      const ext = await probe(
        sb.external.netns,
        sb.nodes!.map((n) => `${n.ip}:7000`),
      );
      expect(ext.map((x) => x.reply)).toEqual(sb.nodes!.map((n) => n.netns));
    } finally {
      const down = await bench(['down', sb.runId]);
      expect(down.exitCode, down.stderr).toBe(0);
    }
    expect(ourNamespaces(sb.runId)).toEqual([]);
    expect(stateFiles()).toEqual([]);
    expect(await rootSnapshot()).toEqual(before);
  });

  it('lets nothing leave: unassigned VIPs and public addresses die inside the sandbox', async () => {
    const sb = await up(['--pods', '1']);
    try {
      const snmp = async () => {
        const r = await exec.run({ netns: sb.external.netns, argv: ['cat', '/proc/net/snmp'] });
        const [names, values] = r.stdout.split('\n').filter((l) => l.startsWith('Ip:'));
        const keys = names!.split(/\s+/);
        return Number(values!.split(/\s+/)[keys.indexOf('InAddrErrors')]);
      };
      const dropsBefore = await snmp();
      const r = await probe(sb.pods[0]!.netns, ['10.96.0.123:80', '1.1.1.1:80', '203.0.113.7:443'], { timeoutMs: 1000 });
      expect(r.map((x) => x.ok)).toEqual([false, false, false]);
      // The SYNs reached the external namespace (the node's default route) and were dropped there:
      // it does not forward and has no route onwards.
      expect((await snmp()) - dropsBefore).toBeGreaterThanOrEqual(3);
      // No sandbox namespace has an interface whose peer is in the root namespace: the root's links
      // are exactly what they were.
      expect((await rootSnapshot()).links).toEqual(before.links);
    } finally {
      await bench(['down', sb.runId]);
    }
  });

  it('runs two sandboxes side by side without interference', async () => {
    const a = await up(['--pods', '2']);
    const b = await up(['--pods', '2']);
    try {
      expect(a.runId).not.toBe(b.runId);
      startReplyServers([...a.pods, ...b.pods].map((p) => ({ netns: p.netns, reply: `${p.netns}`, port: 7000 })));
      await waitListening(
        a.pods[0]!.netns,
        a.pods.map((p) => `${p.ip}:7000`),
      );
      await waitListening(
        b.pods[0]!.netns,
        b.pods.map((p) => `${p.ip}:7000`),
      );
      // Same addresses in both; each pod reaches its own sandbox's pod.
      expect(a.pods.map((p) => p.ip)).toEqual(b.pods.map((p) => p.ip));
      const fromA = await probe(a.pods[2]!.netns, [`${a.pods[1]!.ip}:7000`]);
      const fromB = await probe(b.pods[2]!.netns, [`${b.pods[1]!.ip}:7000`]);
      expect(fromA[0]!.reply).toBe(a.pods[1]!.netns);
      expect(fromB[0]!.reply).toBe(b.pods[1]!.netns);
      // Removing one leaves the other working.
      expect((await bench(['down', a.runId])).exitCode).toBe(0);
      expect(ourNamespaces(a.runId)).toEqual([]);
      const again = await probe(b.pods[2]!.netns, [`${b.pods[0]!.ip}:7000`]);
      expect(again[0]!.reply).toBe(b.pods[0]!.netns);
    } finally {
      await bench(['down', b.runId]);
      await bench(['down', a.runId]);
    }
    expect(ourNamespaces()).toEqual([]);
  });

  it('bench exec runs a command in a pod and passes its exit code through', async () => {
    const sb = await up(['--pods', '1']);
    try {
      const ok = await bench(['exec', '--run', sb.runId, 'srv-0', '--', 'ip', '-o', '-4', 'address', 'show', 'eth0']);
      expect(ok.exitCode).toBe(0);
      expect(ok.stdout).toContain(`${sb.pods[0]!.ip}/32`);
      const fail = await bench(['exec', '--run', sb.runId, 'node', '--', 'sh', '-c', 'exit 7']);
      expect(fail.exitCode).toBe(7);
      const bad = await bench(['exec', '--run', sb.runId, 'srv-9', '--', 'true']);
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/TARGET: sandbox \w+ has no srv-9/);
      // --dry-run starts no shell: it prints the one it would start, in the pod's namespace.
      const dry = await bench(['--dry-run', 'exec', '--run', sb.runId, 'srv-0']);
      expect(dry.exitCode).toBe(0);
      expect(dry.stderr).toMatch(new RegExp(`^\\+ \\[${sb.pods[0]!.netns} cgroup \\S+\\] \\S+ -i  \\(interactive`, 'm'));
    } finally {
      await bench(['down', sb.runId]);
    }
  });
});
