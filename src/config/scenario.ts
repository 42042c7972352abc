import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { DEFAULT_PATHS, PATHS } from '../model/paths.js';
import { usageErrorFrom } from './errors.js';
import { dns1035Label, dns1123Label, intInRange, portName } from './fields.js';
import { MAX_PODS, sandboxFields } from './sandbox.js';

// A scenario file (YAML or JSON) describes the services, their endpoints and the paths to test.

/** Endpoints name server pods as `bench up` names them: srv-0, srv-1, … up to the largest
 * sandbox's last pod (an endpoint beyond it would only fail later, as --pods). */
const podRef = z
  .string()
  .regex(/^srv-(0|[1-9]\d*)$/, {
    error: (i) => `must name a server pod as srv-N (srv-0, srv-1, …); got ${JSON.stringify(i.input)}`,
  })
  .refine((s) => Number(s.slice(4)) < MAX_PODS, {
    error: (i) => `names ${String(i.input)}, beyond the largest sandbox (${MAX_PODS} server pods: srv-0 … srv-${MAX_PODS - 1})`,
  });

const portSpec = z
  .object({
    name: portName.default(''),
    protocol: z.enum(['TCP', 'UDP'], { error: 'must be TCP or UDP' }).default('TCP'),
    port: intInRange(1, 65535),
    targetPort: intInRange(1, 65535).optional(),
    nodePort: intInRange(30000, 32767).optional(),
  })
  .strict();

const serviceSpec = z
  .object({
    name: dns1035Label,
    namespace: dns1123Label.default('default'),
    type: z.enum(['ClusterIP', 'NodePort'], { error: 'must be ClusterIP or NodePort' }).default('ClusterIP'),
    ports: z.array(portSpec).min(1, { error: 'needs at least one port' }),
    endpoints: z.array(podRef).default([]),
    sessionAffinity: z.enum(['None', 'ClientIP'], { error: 'must be None or ClientIP' }).default('None'),
    externalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'must be Cluster or Local' }).default('Cluster'),
    internalTrafficPolicy: z.enum(['Cluster', 'Local'], { error: 'must be Cluster or Local' }).default('Cluster'),
  })
  .strict()
  .superRefine((svc, ctx) => {
    if (svc.ports.length > 1 && svc.ports.some((p) => p.name === ''))
      ctx.addIssue({
        code: 'custom',
        path: ['ports'],
        message: 'every port needs a name when a service has more than one (as in Kubernetes)',
      });
  });

export const scenarioSchema = z
  .object({
    sandbox: z.object(sandboxFields).partial().strict().default({}),
    services: z.array(serviceSpec).min(1, { error: 'needs at least one service' }),
    paths: z.array(z.enum(PATHS, { error: `must be one of ${PATHS.join(', ')}` })).default(DEFAULT_PATHS),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.services.forEach((svc, i) => {
      const key = `${svc.namespace}/${svc.name}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['services', i, 'name'], message: `duplicate service ${key}` });
      seen.add(key);
    });
  });

export type Scenario = z.output<typeof scenarioSchema>;

/** Server pods a scenario needs: one more than the highest srv-N its endpoints name. */
export function podsNeeded(s: Scenario): number {
  const idx = s.services.flatMap((svc) => svc.endpoints.map((e) => Number(e.slice(4))));
  return idx.length === 0 ? 1 : Math.max(...idx) + 1;
}

/** Deepest nesting of flow collections ([…], {…}) outside quoted scalars. yaml 2.9 aborts the
 * whole process (V8's "RegExpCompiler Allocation failed", SIGABRT, no exception to catch) on some
 * files whose flow collections nest about a thousand deep (found by test/faults/fuzz: two such
 * documents in one file), so the depth is checked before yaml sees the text. */
export function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return deepest;
}

/** Far deeper than any scenario needs (services[].ports[] is three levels). */
const MAX_FLOW_DEPTH = 64;

export function parseScenario(text: string, file: string): Scenario {
  if (flowDepth(text) > MAX_FLOW_DEPTH)
    throw new UsageError(`${file}: nests [ ] or { } more than ${MAX_FLOW_DEPTH} levels deep; a scenario needs at most a few`);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new UsageError(`${file}: not valid YAML or JSON: ${doc.errors[0]!.message}`);
  let value: unknown;
  try {
    // toJS resolves aliases: it throws on an alias bomb (yaml's maxAliasCount) or a value nested
    // past the stack's depth, both errors in the file.
    value = doc.toJS();
  } catch (e) {
    throw new UsageError(`${file}: cannot be read as YAML: ${e instanceof Error ? e.message : String(e)}`);
  }
  const result = scenarioSchema.safeParse(value);
  if (!result.success) throw usageErrorFrom(result.error, { kind: 'file', file });
  return result.data;
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--scenario: cannot read ${file}: ${(e as Error).message}`);
  }
  return parseScenario(text, file);
}
