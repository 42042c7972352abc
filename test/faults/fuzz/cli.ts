import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { BENCH } from './harness.js';
import { nastyString } from './values.js';

// Fuzzed command lines over every command and flag the CLI has. The commands and their flags are
// read from `bench --help` and `bench CMD --help`, so a command or flag added later (bench sync,
// --shape, …) is fuzzed without touching this file; valid values come from VALID, others from
// nastyString.
//
// A vector that names a command that would create or remove things (up, run, verify, sync, exec,
// down, clean) anywhere gets --dry-run as its first argument, also when it is valid: a fuzzer must never build a
// sandbox, run a command inside another run's sandbox, or remove one. The CLI's own --dry-run is
// therefore fuzzed too: it must create nothing (harness.ts checks).

export const CREATES = new Set(['up', 'run', 'verify', 'sync', 'exec', 'down', 'clean']);

export interface CliSpec {
  commands: {
    name: string;
    args: { name: string; variadic: boolean; required: boolean }[];
    flags: { name: string; takesValue: boolean }[];
  }[];
}

function helpOf(args: string[]): string {
  return execFileSync(process.execPath, [BENCH, ...args, '--help'], { encoding: 'utf8' });
}

/** The CLI as its help describes it. */
export function readCliSpec(): CliSpec {
  const top = helpOf([]);
  const commands: CliSpec['commands'] = [];
  for (const m of top.matchAll(/^ {2}([a-z][a-z-]*) ((?:\[options\] )?[^\n]*?)\s{2,}/gm)) {
    const name = m[1]!;
    if (name === 'help') continue;
    const args = [...m[2]!.matchAll(/([<[])([A-Z_]+)(\.\.\.)?[>\]]/g)].map((a) => ({
      name: a[2]!,
      required: a[1] === '<',
      variadic: a[3] !== undefined,
    }));
    const flags = [...helpOf([name]).matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)( <[^>]+>)?/gm)]
      .map((f) => ({ name: f[1]!, takesValue: f[2] !== undefined }))
      .filter((f) => f.name !== '--help');
    commands.push({ name, args, flags });
  }
  return { commands };
}

/** Values each flag or argument accepts (a few of each kind); anything else is nastyString. */
const VALID: Record<string, string[]> = {
  '--pods': ['1', '3', '8', '1000'],
  '--clients': ['1', '2', '32'],
  '--pod-cidr': ['10.244.0.0/16', '10.0.0.0/8', '172.16.0.0/24', '10.96.0.0/12'],
  '--service-cidr': ['10.96.0.0/12', '10.245.0.0/16', '10.244.128.0/17'],
  '--external-cidr': ['198.18.0.0/24', '198.19.0.0/30', '10.244.0.0/16'],
  '--backend': ['nft', 'iptables-restore', 'iptables,nft', 'ebpf', 'ipvs', 'iptables', 'nft,nft'],
  '--path': ['pod', 'clusterip', 'pod,clusterip,nodeport', 'hairpin', 'clusterip-node'],
  '--workload': ['tcp-rr', 'http', 'tcp-crr,udp-rr', 'stream', 'http-crr'],
  '--services': ['1', '10', '100,1000', '10000'],
  '--endpoints': ['1', '3', '100'],
  '--target': ['first', 'middle', 'last', 'random'],
  '--repeat': ['1', '3', '10'],
  '--max-repeat': ['10', '20'],
  '--ci-target': ['0', '5', '50'],
  '--time-budget': ['0', '180'],
  '--duration': ['0.1', '1', '2'],
  '--warmup': ['0', '0.5'],
  '--connections': ['1', '6', '64'],
  '--rate': ['100', '1000'],
  '--message-size': ['1', '64', '65536'],
  '--seed': ['1', '42', '9007199254740991'],
  '--sync-iterations': ['1', '5'],
  '--out': ['out', 'res/x'],
  '--iptables-mode': ['legacy', 'nft'],
  '--sync-timeout': ['1', '20'],
  '--kernel': ['host', 'guest'],
  '--scenario': ['scenario.yaml', 'missing.yaml'],
  '--run': ['abc123', 'zzzzzz'],
  '--fail-on-regression': ['0', '10', '5.5'],
  '--kube-proxy': ['1.35', '1.37'],
  '--shape': ['uniform', 'zipf'],
  '--churn': ['0', '10'],
  RUN: ['run', 'abc123', 'results/latest'],
  RUN_A: ['run'],
  RUN_B: ['run'],
  TARGET: ['node', 'external', 'srv-0', 'cli-0', 'srv-9999'],
  CMD: ['true', 'ls', 'sh', '-c'],
};

const value = (key: string): fc.Arbitrary<string> =>
  VALID[key] ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...VALID[key]) }, { weight: 2, arbitrary: nastyString }) : nastyString;

/** One command line. Paths it names stay inside the working directory: --out and --scenario
 * values that leave it (absolute, or with ..) are replaced. */
export function cliVector(spec: CliSpec): fc.Arbitrary<string[]> {
  const known = fc.constantFrom(...spec.commands).chain((c) => {
    const flag = fc
      .constantFrom(...c.flags, { name: '--json', takesValue: false })
      .chain((f) =>
        f.takesValue
          ? fc
              .tuple(value(f.name), fc.constantFrom('separate', 'equals', 'missing'))
              .map(([v, style]) => (style === 'separate' ? [f.name, v] : style === 'equals' ? [`${f.name}=${v}`] : [f.name]))
          : fc.constant<string[]>([f.name]),
      );
    const positional = c.args.map((a) =>
      fc.oneof({ weight: a.required ? 8 : 2, arbitrary: value(a.name).map((v) => [v]) }, { weight: 1, arbitrary: fc.constant([]) }),
    );
    return fc
      .tuple(
        fc.array(flag, { maxLength: 6 }),
        fc.tuple(...positional),
        fc.array(nastyString, { maxLength: 1 }),
        fc.subarray(['--print-commands', '--json', '--', '-h']),
      )
      .map(([flags, pos, junk, extra]) => {
        const before = extra.filter((e) => e !== '--');
        const argv = [c.name, ...flags.flat(), ...pos.flat(), ...junk, ...before];
        if (extra.includes('--')) argv.splice(1 + Math.min(argv.length - 1, 2), 0, '--');
        return argv;
      });
  });
  const unknown = fc.tuple(nastyString, fc.array(nastyString, { maxLength: 3 })).map(([c, rest]) => [c, ...rest]);
  return fc
    .oneof({ weight: 9, arbitrary: known }, { weight: 1, arbitrary: unknown })
    .map((argv: string[]) => argv.map(insideWorkdir))
    .map((argv) => (argv.some((a) => CREATES.has(a)) ? ['--dry-run', ...argv] : argv));
}

/** A path argument that would leave the input's working directory is kept inside it. */
function insideWorkdir(arg: string): string {
  const eq = arg.indexOf('=');
  const v = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : arg;
  if (!v.startsWith('/') && !v.split('/').includes('..') && !v.startsWith('~')) return arg;
  return arg.replace(v, `inside-${v.replace(/[/.~]/g, '_').slice(0, 40)}`);
}
