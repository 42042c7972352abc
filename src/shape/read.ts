import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { parser } from 'stream-json';
import { Assembler } from 'stream-json/assembler.js';
import { z } from 'zod';
import { UsageError } from '../errors.js';

// Reads the shape of a real cluster from `kubectl get services,endpointslices -A -o json`: a List
// whose items are Services and EndpointSlices. What is kept is counts only: per service its type,
// ports' protocols, ready endpoints, session affinity and traffic policies. Names are hashed to
// join slices to their service (label kubernetes.io/service-name) and never leave this module.
//
// The file is streamed (stream-json's tokenizer; one item assembled at a time), so a 200 MB
// export never sits in memory whole; what grows is one small record per service.

export type ShapeProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface ShapeService {
  /** NodePort for NodePort and LoadBalancer services (both program node ports). */
  type: 'ClusterIP' | 'NodePort';
  ports: { protocol: ShapeProtocol; nodePort: boolean }[];
  /** Ready endpoints over all the service's slices (ready unset counts as ready, as the API says). */
  endpoints: number;
  sessionAffinity: 'None' | 'ClientIP';
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
}

export interface ClusterShape {
  /** In the file's order; services kube-proxy programs nothing for are left out (see skipped). */
  services: ShapeService[];
  skipped: { headless: number; externalName: number; otherKinds: number };
  slices: number;
  /** Slices naming no service of the file (their endpoints are not counted). */
  orphanSlices: number;
  bytes: number;
}

const ITEM_PATH = 'items';

const str = (what: string) => z.string({ error: `expected ${what}` });
const serviceItem = z.object({
  kind: z.literal('Service'),
  metadata: z.object({ name: str('a name (string)'), namespace: str('a namespace (string)') }, { error: 'expected an object' }),
  spec: z.object(
    {
      type: z
        .enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], {
          error: 'expected ClusterIP, NodePort, LoadBalancer or ExternalName',
        })
        .default('ClusterIP'),
      clusterIP: z.string({ error: 'expected a string' }).optional(),
      ports: z
        .array(
          z.object(
            {
              protocol: z.enum(['TCP', 'UDP', 'SCTP'], { error: 'expected TCP, UDP or SCTP' }).default('TCP'),
              port: z.number({ error: 'expected a port number' }).int({ error: 'expected a whole port number' }),
              nodePort: z.number({ error: 'expected a port number' }).int().optional(),
            },
            { error: 'expected an object (a service port)' },
          ),
          { error: 'expected an array of ports' },
        )
        .default([]),
      sessionAffinity: z.enum(['None', 'ClientIP'], { error: 'expected None or ClientIP' }).default('None'),
      externalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'expected Cluster or Local' }).optional(),
      internalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'expected Cluster or Local' }).optional(),
    },
    { error: 'expected an object (the service spec)' },
  ),
});

const sliceItem = z.object({
  kind: z.literal('EndpointSlice'),
  metadata: z.object({
    namespace: str('a namespace (string)'),
    labels: z
      .record(z.string(), z.string({ error: 'expected a string label value' }), { error: 'expected an object of labels' })
      .default({}),
  }),
  endpoints: z
    .array(
      z.object(
        {
          addresses: z.array(z.string(), { error: 'expected an array of addresses' }).min(1, { error: 'expected at least one address' }),
          conditions: z
            .object({ ready: z.boolean({ error: 'expected true or false' }).nullish() }, { error: 'expected an object' })
            .default({}),
        },
        { error: 'expected an object (an endpoint)' },
      ),
      { error: 'expected an array of endpoints' },
    )
    .nullish(),
});

const kindOnly = z.object(
  { kind: z.string({ error: 'expected a kind (string)' }) },
  { error: 'expected an object (a Service or EndpointSlice)' },
);

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** ns/name → a short digest: the only form in which a name is held, and only in memory. */
const digest = (namespace: string, name: string): string =>
  createHash('sha256').update(`${namespace}/${name}`).digest('base64url').slice(0, 16);

function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

type Token = { name: string; value?: unknown };

/** Tracks where in the document the token stream is, so every error can name a JSON path. */
class PathTracker {
  readonly path: (string | number)[] = [];
  private readonly kinds: ('object' | 'array')[] = [];

  /** Call before a value token: in an array, the value takes the next index. */
  private beforeValue(): void {
    if (this.kinds.at(-1) === 'array') this.path[this.path.length - 1] = (this.path.at(-1) as number) + 1;
  }

  feed(t: Token): void {
    switch (t.name) {
      case 'keyValue':
        this.path[this.path.length - 1] = t.value as string;
        return;
      case 'startObject':
      case 'startArray':
        this.beforeValue();
        this.kinds.push(t.name === 'startObject' ? 'object' : 'array');
        this.path.push(t.name === 'startObject' ? '' : -1);
        return;
      case 'endObject':
      case 'endArray':
        this.kinds.pop();
        this.path.pop();
        return;
      default:
        if (t.name.endsWith('Value')) this.beforeValue();
    }
  }

  get depth(): number {
    return this.kinds.length;
  }

  /** The path for a message: the object key slots that hold no key yet are dropped. */
  where(): string {
    return formatPath(this.path.filter((p) => p !== '' && p !== -1));
  }
}

interface Pending {
  type: ShapeService['type'];
  ports: ShapeService['ports'];
  endpoints: number;
  sessionAffinity: ShapeService['sessionAffinity'];
  externalTrafficPolicy: ShapeService['externalTrafficPolicy'];
  internalTrafficPolicy: ShapeService['internalTrafficPolicy'];
}

/** Reads a kubectl List export into its shape. Usage errors name `--shape`, the file, and for
 * a malformed file the JSON path and what was expected there. */
export async function readShape(file: string): Promise<ClusterShape> {
  let bytes: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a regular file');
    bytes = s.size;
  } catch (e) {
    throw new UsageError(`--shape: cannot read ${file}: ${(e as Error).message}`);
  }
  if (bytes === 0) throw new UsageError(`--shape: ${file} is empty, not JSON`);
  const fail = (path: string, what: string) =>
    new UsageError(
      `--shape: ${file}: at ${path}: ${what} (the file should be the output of kubectl get services,endpointslices -A -o json)`,
    );

  const services = new Map<string, Pending>();
  const order: string[] = [];
  const sliceCounts = new Map<string, number>();
  const skipped = { headless: 0, externalName: 0, otherKinds: 0 };
  let slices = 0;
  let sawItems = false;
  let topKind: string | undefined;

  const tracker = new PathTracker();
  let asm: Assembler | undefined;
  let itemIndex = -1;
  let awaitingItems = false;

  const takeItem = (value: unknown, index: number): void => {
    const base = [ITEM_PATH, index] as (string | number)[];
    const kind = kindOnly.safeParse(value);
    if (!kind.success)
      throw fail(formatPath([...base, ...kind.error.issues[0]!.path.map((p) => p as string | number)]), kind.error.issues[0]!.message);
    const schema = kind.data.kind === 'Service' ? serviceItem : kind.data.kind === 'EndpointSlice' ? sliceItem : undefined;
    if (!schema) {
      skipped.otherKinds++;
      return;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw fail(formatPath([...base, ...issue.path.map((p) => p as string | number)]), issue.message);
    }
    const item = parsed.data;
    if (item.kind === 'Service') {
      const spec = item.spec;
      if (spec.type === 'ExternalName') return void skipped.externalName++;
      if (spec.clusterIP === 'None') return void skipped.headless++;
      const key = digest(item.metadata.namespace, item.metadata.name);
      const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
      if (!services.has(key)) order.push(key);
      services.set(key, {
        type: nodePorts ? 'NodePort' : 'ClusterIP',
        ports: spec.ports.map((p) => ({ protocol: p.protocol, nodePort: nodePorts })),
        endpoints: 0,
        sessionAffinity: spec.sessionAffinity,
        externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
        internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
      });
    } else {
      slices++;
      const svc = item.metadata.labels[SERVICE_NAME_LABEL];
      if (svc === undefined) return;
      const ready = (item.endpoints ?? []).filter((e) => e.conditions.ready !== false).length;
      const key = digest(item.metadata.namespace, svc);
      sliceCounts.set(key, (sliceCounts.get(key) ?? 0) + ready);
    }
  };

  const onToken = (t: Token): void => {
    tracker.feed(t);
    if (asm) {
      asm.consume(t as never);
      if (asm.done) {
        takeItem(asm.current, itemIndex);
        asm = undefined;
      }
      return;
    }
    const depth = tracker.depth;
    const where = tracker.path;
    if (depth === 0) {
      if (t.name !== 'endObject' && t.name !== 'endArray') throw fail('(top level)', 'expected an object (a kubectl List)');
      return;
    }
    if (depth === 1 && tracker.path.length === 1 && t.name === 'startObject') return; // the List itself
    if (depth === 1 && t.name === 'startArray') throw fail('(top level)', 'expected an object (a kubectl List), found an array');
    // Inside the List: the top-level keys.
    if (where[0] === 'kind' && depth === 1 && t.name === 'stringValue') topKind = t.value as string;
    if (awaitingItems) {
      awaitingItems = false;
      if (t.name !== 'startArray') throw fail(ITEM_PATH, 'expected an array of Services and EndpointSlices');
      sawItems = true;
      return;
    }
    if (depth === 1 && t.name === 'keyValue' && t.value === ITEM_PATH) return void (awaitingItems = true);
    if (where[0] === ITEM_PATH && typeof where[1] === 'number') {
      if (depth === 2 && t.name.endsWith('Value')) throw fail(tracker.where(), 'expected an object (a Service or EndpointSlice)');
      if (depth === 3 && where.length === 3) {
        // The first token of one item: assemble it whole (one item is small).
        itemIndex = where[1];
        if (t.name !== 'startObject') throw fail(`${ITEM_PATH}[${itemIndex}]`, 'expected an object (a Service or EndpointSlice)');
        asm = new Assembler();
        asm.consume(t as never);
      }
    }
  };

  await new Promise<void>((resolvePromise, reject) => {
    const input = createReadStream(file);
    const tokens = parser.asStream({ streamValues: false });
    let failed = false;
    const stop = (e: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      tokens.destroy();
      reject(
        e instanceof UsageError
          ? e
          : fail(tracker.where(), `not valid JSON: ${(e as Error).message.replace(/^Parser (cannot parse input: |has )?/, '')}`),
      );
    };
    input.on('error', (e) => stop(new UsageError(`--shape: cannot read ${file}: ${e.message}`)));
    tokens.on('error', stop);
    tokens.on('data', (t: Token) => {
      if (failed) return;
      try {
        onToken(t);
      } catch (e) {
        stop(e);
      }
    });
    tokens.on('end', () => {
      if (!failed) resolvePromise();
    });
    input.pipe(tokens);
  });

  if (topKind !== undefined && topKind !== 'List') throw fail('kind', `expected "List" (found ${JSON.stringify(topKind.slice(0, 40))})`);
  if (!sawItems) throw fail(ITEM_PATH, 'expected an array of Services and EndpointSlices (no items found)');
  let orphanSlices = 0;
  for (const [key, n] of sliceCounts) {
    const svc = services.get(key);
    if (svc) svc.endpoints += n;
    else orphanSlices++;
  }
  if (services.size === 0)
    throw new UsageError(
      `--shape: ${file} has no services kube-proxy would program (${skipped.headless} headless, ${skipped.externalName} ExternalName, ${slices} EndpointSlices); export it with kubectl get services,endpointslices -A -o json`,
    );
  return {
    services: order.map((k) => services.get(k)!),
    skipped,
    slices,
    orphanSlices,
    bytes,
  };
}
