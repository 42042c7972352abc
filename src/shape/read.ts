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

type Fail = (path: string, what: string) => UsageError;

/** Keeps what the items say, as counts per hashed service. */
class ShapeCollector {
  private readonly services = new Map<string, ShapeService>();
  private readonly sliceCounts = new Map<string, number>();
  readonly skipped = { headless: 0, externalName: 0, otherKinds: 0 };
  slices = 0;

  constructor(private readonly fail: Fail) {}

  /** One assembled item, items[index] of the file. */
  take(value: unknown, index: number): void {
    const at = (path: readonly PropertyKey[]) => formatPath([ITEM_PATH, index, ...path.map((p) => p as string | number)]);
    const kind = kindOnly.safeParse(value);
    if (!kind.success) throw this.fail(at(kind.error.issues[0]!.path), kind.error.issues[0]!.message);
    const schema = kind.data.kind === 'Service' ? serviceItem : kind.data.kind === 'EndpointSlice' ? sliceItem : undefined;
    if (!schema) return void this.skipped.otherKinds++;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw this.fail(at(parsed.error.issues[0]!.path), parsed.error.issues[0]!.message);
    const item = parsed.data;
    if (item.kind === 'Service') this.service(item);
    else this.slice(item);
  }

  private service(item: z.output<typeof serviceItem>): void {
    const spec = item.spec;
    if (spec.type === 'ExternalName') return void this.skipped.externalName++;
    if (spec.clusterIP === 'None') return void this.skipped.headless++;
    const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    // A Map keeps the first insertion's place: the file's order.
    this.services.set(digest(item.metadata.namespace, item.metadata.name), {
      type: nodePorts ? 'NodePort' : 'ClusterIP',
      ports: spec.ports.map((p) => ({ protocol: p.protocol, nodePort: nodePorts })),
      endpoints: 0,
      sessionAffinity: spec.sessionAffinity,
      externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
      internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
    });
  }

  private slice(item: z.output<typeof sliceItem>): void {
    this.slices++;
    const svc = item.metadata.labels[SERVICE_NAME_LABEL];
    if (svc === undefined) return;
    const ready = (item.endpoints ?? []).filter((e) => e.conditions.ready !== false).length;
    const key = digest(item.metadata.namespace, svc);
    this.sliceCounts.set(key, (this.sliceCounts.get(key) ?? 0) + ready);
  }

  /** The services with their slices' endpoints added, and the slices that named none of them. */
  finish(): { services: ShapeService[]; orphanSlices: number } {
    let orphanSlices = 0;
    for (const [key, n] of this.sliceCounts) {
      const svc = this.services.get(key);
      if (svc) svc.endpoints += n;
      else orphanSlices++;
    }
    return { services: [...this.services.values()], orphanSlices };
  }
}

/** Walks the token stream of a List: checks the structure down to `items[i]` and hands each item,
 * assembled, to `onItem`. */
class ListWalker {
  readonly tracker = new PathTracker();
  sawItems = false;
  topKind: string | undefined;
  private asm: Assembler | undefined;
  private itemIndex = -1;
  private awaitingItems = false;

  constructor(
    private readonly onItem: (value: unknown, index: number) => void,
    private readonly fail: Fail,
  ) {}

  feed(t: Token): void {
    const { tracker } = this;
    tracker.feed(t);
    if (this.asm) return this.inItem(t);
    const depth = tracker.depth;
    const where = tracker.path;
    if (depth === 0) {
      if (t.name !== 'endObject' && t.name !== 'endArray') throw this.fail('(top level)', 'expected an object (a kubectl List)');
      return;
    }
    if (depth === 1 && where.length === 1 && t.name === 'startObject') return; // the List itself
    if (depth === 1 && t.name === 'startArray') throw this.fail('(top level)', 'expected an object (a kubectl List), found an array');
    if (where[0] === 'kind' && depth === 1 && t.name === 'stringValue') this.topKind = t.value as string;
    if (this.awaitingItems) {
      this.awaitingItems = false;
      if (t.name !== 'startArray') throw this.fail(ITEM_PATH, 'expected an array of Services and EndpointSlices');
      this.sawItems = true;
      return;
    }
    if (depth === 1 && t.name === 'keyValue' && t.value === ITEM_PATH) return void (this.awaitingItems = true);
    if (where[0] === ITEM_PATH && typeof where[1] === 'number') this.itemStart(t, depth, where[1], where.length);
  }

  private itemStart(t: Token, depth: number, index: number, pathLength: number): void {
    if (depth === 2 && t.name.endsWith('Value')) throw this.fail(this.tracker.where(), 'expected an object (a Service or EndpointSlice)');
    if (depth !== 3 || pathLength !== 3) return;
    // The first token of one item: assemble it whole (one item is small).
    this.itemIndex = index;
    if (t.name !== 'startObject') throw this.fail(`${ITEM_PATH}[${index}]`, 'expected an object (a Service or EndpointSlice)');
    this.asm = new Assembler();
    this.asm.consume(t as never);
  }

  private inItem(t: Token): void {
    this.asm!.consume(t as never);
    if (!this.asm!.done) return;
    const value = this.asm!.current;
    this.asm = undefined;
    this.onItem(value, this.itemIndex);
  }
}

/** Streams the file's JSON tokens into `feed`; a syntax error becomes a usage error at the path
 * the walker had reached. */
function streamTokens(file: string, walker: ListWalker, fail: Fail): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    const input = createReadStream(file);
    const tokens = parser.asStream({ streamValues: false });
    let failed = false;
    const stop = (e: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      tokens.destroy();
      const why = (e as Error).message.replace(/^Parser (cannot parse input: |has )?/, '');
      reject(e instanceof UsageError ? e : fail(walker.tracker.where(), `not valid JSON: ${why}`));
    };
    input.on('error', (e) => stop(new UsageError(`--shape: cannot read ${file}: ${e.message}`)));
    tokens.on('error', stop);
    tokens.on('data', (t: Token) => {
      if (failed) return;
      try {
        walker.feed(t);
      } catch (e) {
        stop(e);
      }
    });
    tokens.on('end', () => {
      if (!failed) resolvePromise();
    });
    input.pipe(tokens);
  });
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new Error('not a regular file');
    return s.size;
  } catch (e) {
    throw new UsageError(`--shape: cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Reads a kubectl List export into its shape. Usage errors name `--shape`, the file, and for
 * a malformed file the JSON path and what was expected there. */
export async function readShape(file: string): Promise<ClusterShape> {
  const bytes = await fileSize(file);
  if (bytes === 0) throw new UsageError(`--shape: ${file} is empty, not JSON`);
  const fail: Fail = (path, what) =>
    new UsageError(
      `--shape: ${file}: at ${path}: ${what} (the file should be the output of kubectl get services,endpointslices -A -o json)`,
    );
  const collector = new ShapeCollector(fail);
  const walker = new ListWalker((value, index) => collector.take(value, index), fail);
  await streamTokens(file, walker, fail);
  if (walker.topKind !== undefined && walker.topKind !== 'List')
    throw fail('kind', `expected "List" (found ${JSON.stringify(walker.topKind.slice(0, 40))})`);
  if (!walker.sawItems) throw fail(ITEM_PATH, 'expected an array of Services and EndpointSlices (no items found)');
  const { services, orphanSlices } = collector.finish();
  const { skipped, slices } = collector;
  if (services.length === 0)
    throw new UsageError(
      `--shape: ${file} has no services kube-proxy would program (${skipped.headless} headless, ${skipped.externalName} ExternalName, ${slices} EndpointSlices); export it with kubectl get services,endpointslices -A -o json`,
    );
  return { services, skipped, slices, orphanSlices, bytes };
}
