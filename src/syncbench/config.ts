import { z } from 'zod';
import { KUBE_PROXY_PROFILES } from '../config/backend.js';
import { intInRange } from '../config/fields.js';
import { clusterShape } from '../config/sandbox.js';
import { ENDPOINTS_FORMS, formatEndpoints, parseEndpoints, type EndpointsDist } from '../model/endpoint-counts.js';

// Flags of `bench sync`: one source of truth for parsing, defaults and --help (DESIGN.md §9).

export const KUBE_PROXY_LINES = KUBE_PROXY_PROFILES;
export type KubeProxyLine = (typeof KUBE_PROXY_LINES)[number];
export const DEFAULT_KUBE_PROXY: KubeProxyLine = '1.37';
export const IPTABLES_MODES = ['legacy', 'nft'] as const;

const splitList = (v: unknown) => (Array.isArray(v) ? v.flatMap((x) => String(x).split(',')) : typeof v === 'string' ? v.split(',') : v);

export const list = <T extends string>(name: string, allowed: readonly T[]) =>
  z.preprocess(
    splitList,
    z
      .array(z.enum(allowed as [T, ...T[]], { error: (i) => `${JSON.stringify(i.input)} is not a ${name}; one of ${allowed.join(', ')}` }))
      .min(1, { error: `needs at least one ${name}` }),
  );

/** `--endpoints` in its syntax (src/model/endpoint-counts.ts); parsed into a distribution. */
export const endpointsFlag = (maxFixed?: number, maxRange?: number) =>
  z
    .string()
    .transform((s, ctx): EndpointsDist => {
      const r = parseEndpoints(s, maxFixed, maxRange);
      if (typeof r === 'string') {
        ctx.addIssue({ code: 'custom', message: r });
        return z.NEVER;
      }
      return r;
    })
    .describe(`endpoints per service: ${ENDPOINTS_FORMS} (seeded by --seed)`);

/** `defaultBackends`: the series without --backend (the backends with kube-proxy lines). */
export function syncShape(backendNames: readonly string[], defaultBackends: readonly string[]) {
  return {
    backend: list('backend', backendNames)
      .default([...defaultBackends])
      .describe(`backends to time: ${backendNames.join(', ')}`),
    kubeProxy: list('kube-proxy line', KUBE_PROXY_LINES)
      .optional()
      .describe(
        `nft backend: the kube-proxy lines to compare, each a series of its own: ${KUBE_PROXY_LINES.join(', ')} (default ${DEFAULT_KUBE_PROXY})`,
      ),
    iptablesMode: list('iptables mode', IPTABLES_MODES)
      .default(['nft'])
      .describe('iptables flavours for the iptables backends, each a series of its own: legacy, nft'),
    services: z
      .preprocess(splitList, z.array(intInRange(2, 100_000)).min(1))
      .optional()
      .describe("scale points: numbers of services, comma-separated (default 1000,3000,10000; with --shape the shape's own count)"),
    endpoints: endpointsFlag().optional().describe(`endpoints per service: ${ENDPOINTS_FORMS} (default 1; seeded by --seed)`),
    shape: z
      .string()
      .optional()
      .describe(
        'kubectl get services,endpointslices -A -o json output whose shape (ports, endpoints, affinity, policies) the services follow, scaled to --services',
      ),
    churn: intInRange(1, 10_000).default(50).describe('services removed and as many added in the churn step (one partial sync)'),
    repeat: intInRange(1, 100).default(3).describe('repetitions of every scale point (medians with bootstrap 95% CIs)'),
    timeBudget: intInRange(0, 86_400)
      .default(600)
      .describe(
        'seconds: a series stops before a scale point its fitted growth predicts would end past this much wall time since the start; 0: no limit',
      ),
    rawTool: z
      .enum(['yes', 'no'], { error: 'must be yes or no' })
      .default('no')
      .describe("also time the backend's raw tool (iptables-restore, nft -f) loading the cold full sync's payload onto empty tables"),
    syncTimeout: intInRange(1, 3600).default(20).describe('time budget in seconds of one sync of the rule-by-rule iptables backend'),
    seed: intInRange(0, 2 ** 31 - 1)
      .optional()
      .describe('seed of the endpoint draws and the statistics (default: random, recorded)'),
    out: z.string().default('results').describe('directory under which results/<run-id>/ is written'),
    // --nodes N: every node runs its own instance of the backend with the same Services, as every
    // node's kube-proxy does; node 0's syncs are timed, the others follow each one (src/sync.ts syncNodes).
    ...clusterShape,
  };
}

export type SyncShape = ReturnType<typeof syncShape>;
export type SyncFlags = z.output<z.ZodObject<SyncShape>>;

export const DEFAULT_SERVICES = [1000, 3000, 10000];
export const DEFAULT_ENDPOINTS: EndpointsDist = { kind: 'fixed', count: 1 };

/** The flags as run.json records them (the distribution in its syntax). */
export function recordedFlags(f: SyncFlags, seed: number): Record<string, unknown> {
  return { ...f, endpoints: f.endpoints === undefined ? undefined : formatEndpoints(f.endpoints), seed };
}
