import fc from 'fast-check';
import { stringify } from 'yaml';
import { nastyString } from './values.js';

// Scenario files (src/config/scenario.ts) mutated structurally from valid ones: wrong types, huge
// and negative numbers, overlapping CIDRs, unicode and shell metacharacters in names, unknown and
// missing fields, deep nesting, YAML features (aliases, tags, several documents), text cut short,
// and 10 MB files. Each is run as `bench --dry-run up --scenario FILE` (bench up is the command
// that reads scenarios; --dry-run so a valid one builds nothing).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const BASES: Json[] = [
  {
    sandbox: { clients: 1 },
    services: [
      {
        name: 'web',
        namespace: 'default',
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        endpoints: ['srv-0', 'srv-1', 'srv-2'],
        sessionAffinity: 'None',
        externalTrafficPolicy: 'Cluster',
      },
    ],
    paths: ['pod', 'clusterip', 'nodeport'],
  },
  { services: [{ name: 'dns', ports: [{ port: 53, protocol: 'UDP' }], endpoints: ['srv-0'] }] },
  {
    sandbox: { pods: 4, podCidr: '10.250.0.0/24', serviceCidr: '10.96.0.0/16', externalCidr: '198.18.0.0/30' },
    services: [
      {
        name: 'a',
        ports: [
          { name: 'p1', port: 1 },
          { name: 'p2', port: 65535, nodePort: 30000 },
        ],
        type: 'NodePort',
        endpoints: ['srv-3'],
      },
      { name: 'a', namespace: 'other', ports: [{ port: 443 }], sessionAffinity: 'ClientIP', externalTrafficPolicy: 'Local' },
    ],
    paths: ['hairpin', 'clusterip-node'],
  },
];

const WRONG: Json[] = [null, true, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', [], {}, [[]], { a: 1 }];
const HUGE: Json[] = [0, -1, 65536, 70000, 1e6, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, 0.5, 30000, 32768, 1001, 33];
const CIDRS = ['10.244.0.0/16', '10.96.0.0/12', '10.0.0.0/8', '0.0.0.0/0', '169.254.0.0/16', '198.18.0.0/31', '10.244.0.0/33', 'x/8'];

/** Every path into a JSON value (for picking where to mutate). */
function paths(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  // Deeply nested values (the nesting mutation) are one leaf for later mutations.
  if (at.length > 40) return here;
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (v !== null && typeof v === 'object') return [...here, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]))];
  return here;
}

function setAt(root: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  // An earlier mutation replaced the whole document by a scalar or null: no path into it.
  if (root === null || typeof root !== 'object') return root;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let cur = copy;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    // An earlier mutation removed or replaced the way there: nothing to change.
    if (next === null || typeof next !== 'object') return root;
    cur = next as Record<string | number, Json>;
  }
  if (cur === null || typeof cur !== 'object') return root;
  const last = path.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = value;
  return copy as Json;
}

/** The nesting markers expanded to flow-style text, valid in JSON and YAML alike. */
const expandNesting = (text: string): string =>
  text.replace(/"?__NEST_(\d+)_(array|object)__"?/g, (_m, depth: string, kind: string) =>
    kind === 'array'
      ? `${'['.repeat(Number(depth))}1${']'.repeat(Number(depth))}`
      : `${'{n: '.repeat(Number(depth))}1${'}'.repeat(Number(depth))}`,
  );

type Mutation = (doc: Json, pick: number, aux: number) => Json;

const MUTATIONS: Mutation[] = [
  // a wrong type anywhere
  (d, p, a) => setAt(d, pickPath(d, p), WRONG[a % WRONG.length]!),
  // a huge, negative or fractional number anywhere
  (d, p, a) => setAt(d, pickPath(d, p), HUGE[a % HUGE.length]!),
  // a field removed
  (d, p) => setAt(d, pickPath(d, p), undefined),
  // an unknown field
  (d, p) => {
    const at = pickPath(d, p);
    const target = at.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, d);
    return target !== null && typeof target === 'object' && !Array.isArray(target) ? setAt(d, [...at, 'extra'], 1) : d;
  },
  // overlapping or odd CIDRs
  (d, _p, a) =>
    setAt(d, ['sandbox'], {
      podCidr: CIDRS[a % CIDRS.length]!,
      serviceCidr: CIDRS[(a >> 3) % CIDRS.length]!,
      externalCidr: CIDRS[(a >> 6) % CIDRS.length]!,
    }),
  // deep nesting (a marker, expanded in the text: a deep value here would overflow later steps)
  (d, p, a) => setAt(d, pickPath(d, p), `__NEST_${[10, 1000, 5000, 20000][a % 4]}_${a % 2 === 0 ? 'array' : 'object'}__`),
  // many services
  (d, _p, a) =>
    setAt(
      d,
      ['services'],
      Array.from({ length: [100, 5000][a % 2]! }, (_, i) => ({
        name: `s${i}`,
        ports: [{ port: 1 + (i % 65535) }],
        endpoints: [`srv-${i % 1000}`],
      })),
    ),
  // an endpoint naming a pod beyond the sandbox's limit
  (d, _p, a) => setAt(d, ['services', 0, 'endpoints'], [`srv-${[999, 1000, 9999][a % 3]}`]),
];

const pickPath = (d: Json, pick: number): (string | number)[] => {
  const all = paths(d);
  return all[pick % all.length]!;
};

export interface ScenarioInput {
  name: string;
  text: string;
  /** Extra flags after `--scenario FILE`. */
  flags: string[];
}

/** A string field's value replaced with a nasty one (unicode, shell metacharacters, …). */
const withNastyName = (d: Json, s: string, pick: number): Json => {
  const strings = paths(d).filter((p) => typeof p.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, d) === 'string');
  return strings.length === 0 ? d : setAt(d, strings[pick % strings.length]!, s);
};

/** Text-level damage after serialising. */
const TEXT: ((t: string, a: number) => string)[] = [
  (t) => t,
  (t, a) => t.slice(0, a % Math.max(1, t.length)),
  (t) => `${t}\n---\n${t}`,
  (t) => `\ufeff${t}`,
  (t) => t.replace(/ {2}/g, '\t'),
  (t) =>
    `base: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 12 },
      (_, i) =>
        `l${i + 1}: &l${i + 1} [${Array(10)
          .fill(i === 0 ? '*a' : `*l${i}`)
          .join(', ')}]`,
    ).join('\n')}\n${t}`,
  (t) => `!!binary ${Buffer.from(t).toString('base64')}`,
  (t) => t.replace(/: /, ': !!js/function "() => 1"\n#'),
  (t) => `${t}\n${'# '.repeat(10)}${'x'.repeat(10 * 1024 * 1024)}\n`,
  (t) => `services:\n  - name: "${'a'.repeat(10 * 1024 * 1024)}"\n    ports: [{port: 80}]\n${t.slice(0, 0)}`,
  () => '',
  () => '\u0000\u0001\u0002',
];

export const scenarioInput: fc.Arbitrary<ScenarioInput> = fc
  .record({
    base: fc.nat(BASES.length - 1),
    mutations: fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat()), { maxLength: 3 }),
    name: fc.option(fc.tuple(nastyString, fc.nat()), { freq: 3 }),
    json: fc.boolean(),
    text: fc.tuple(fc.nat(TEXT.length - 1), fc.nat()),
    textDamage: fc.nat(9),
    flags: fc.constantFrom<string[]>([], [], ['--pods', '2'], ['--pods', '1000'], ['--service-cidr', '10.244.0.0/16'], ['--json']),
  })
  .map((r): ScenarioInput => {
    let doc: Json = BASES[r.base]!;
    for (const [m, p, a] of r.mutations) doc = MUTATIONS[m]!(doc, p, a);
    if (r.name) doc = withNastyName(doc, r.name[0], r.name[1]);
    let text = expandNesting(r.json ? JSON.stringify(doc) : stringify(doc, { aliasDuplicateObjects: false }));
    // Most files keep their text as generated; the rest get one kind of text-level damage.
    if (r.textDamage < 3) text = TEXT[r.text[0]]!(text, r.text[1]);
    return { name: r.json ? 'scenario.json' : 'scenario.yaml', text, flags: r.flags };
  });
