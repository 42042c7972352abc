// The kill scenarios of issue 19 item 1: which command, which backend, when the kill is timed
// from (a line of its --print-commands / progress output) and over how long a window the seeded
// delay is drawn. `full: true` marks the expensive ones (10,000 services, guest boots), run by
// `scripts/random-kill.ts` and left out of the CI test's reduced count.

export interface Scenario {
  /** What the kill aims at, as the table names it. */
  name: string;
  command: 'up' | 'verify' | 'run' | 'sync';
  backend?: string;
  /** The arguments after `bench --print-commands`; `out` is the trial's results directory. */
  argv: (out: string) => string[];
  /** The output line the delay counts from (the first that matches); none: the command's start. */
  trigger?: RegExp;
  /** The delay is drawn uniformly from [0, windowMs). */
  windowMs: number;
  /** Only in the full run (expensive: 10,000 services, a guest boot). */
  full: boolean;
  /** A guest run: its phases are named "guest: …" once the command inside has started. */
  guest?: boolean;
}

const RUN_SHORT = ['--workload', 'tcp-rr', '--path', 'pod', '--duration', '0.5', '--warmup', '0.2', '--ci-target', '0'];
const run =
  (backend: string, services: number, extra: string[] = [], repeat = 1) =>
  (out: string) => [
    'run',
    '--backend',
    backend,
    '--services',
    String(services),
    ...RUN_SHORT,
    '--repeat',
    String(repeat),
    '--proglat-repeat',
    '1',
    '--sync-iterations',
    '1',
    ...extra,
    '--out',
    out,
  ];

/** The node namespace's first rule command of a full sync, per backend (its --print-commands line). */
const FULL_SYNC: Record<string, RegExp> = {
  nft: /^\+ \[svcb-\w+-node\] nft -f - <<stdin \(\d{3,} lines\)/,
  'iptables-restore': /^\+ \[svcb-\w+-node\] iptables-\w+-restore -w --noflush --counters <<stdin \(\d{3,} lines\)/,
  iptables: /^\+ \[svcb-\w+-node\] iptables-\w+ -w -t nat -A /,
  ebpf: /^\+ \[svcb-\w+-node\] tc (qdisc del|-batch)/,
};

const CASE = /^\[\d+\/\d+/;
/** The last teardown command before bench run renders its reports (one backend: one sandbox). */
const LAST_TEARDOWN = /^\+ umount \/run\/svcbench\/\w+-bpffs$/;

export const SCENARIOS: Scenario[] = [
  { name: 'up', command: 'up', argv: () => ['up', '--pods', '8'], windowMs: 1500, full: false },
  { name: 'up --nodes 3', command: 'up', argv: () => ['up', '--pods', '4', '--nodes', '3'], windowMs: 2500, full: false },
  ...['nft', 'ebpf', 'iptables-restore'].map((b): Scenario => ({
    name: `verify ${b}`,
    command: 'verify',
    backend: b,
    argv: () => ['verify', '--backend', b],
    windowMs: 6000,
    full: b === 'iptables-restore',
  })),
  {
    name: 'verify iptables',
    command: 'verify',
    backend: 'iptables',
    argv: () => ['verify', '--backend', 'iptables'],
    windowMs: 8000,
    full: true,
  },
  ...['nft', 'ebpf', 'iptables-restore'].map((b): Scenario => ({
    name: `run ${b}: full sync @300`,
    command: 'run',
    backend: b,
    argv: run(b, 300),
    trigger: FULL_SYNC[b]!,
    windowMs: b === 'ebpf' ? 100 : 600,
    full: false,
  })),
  ...['nft', 'ebpf', 'iptables-restore', 'iptables'].map((b): Scenario => ({
    name: `run ${b}: full sync @10,000`,
    command: 'run',
    backend: b,
    argv: run(b, 10_000),
    trigger: FULL_SYNC[b]!,
    // eBPF's load takes ≈0.1 s; rule-by-rule iptables stops its sync within ≈2 s at this scale
    // (its pace cannot fit --sync-timeout); the others' transactions take seconds.
    windowMs: b === 'ebpf' ? 400 : b === 'iptables' ? 1500 : 10_000,
    full: true,
  })),
  ...['nft', 'ebpf'].map((b): Scenario => ({
    name: `run ${b}: case`,
    command: 'run',
    backend: b,
    argv: run(b, 10),
    trigger: CASE,
    windowMs: 1200,
    full: false,
  })),
  {
    name: 'run nft: case, --profile on',
    command: 'run',
    backend: 'nft',
    // Every repetition is sampled: perf records into its temporary directory.
    argv: run('nft', 10, ['--profile', 'on']),
    trigger: CASE,
    windowMs: 1500,
    full: false,
  },
  {
    name: 'run nft: after a completed case',
    command: 'run',
    backend: 'nft',
    argv: run('nft', 10, [], 2),
    trigger: /^\[2\/\d+/,
    windowMs: 1200,
    full: false,
  },
  {
    name: 'run nft: report writing',
    command: 'run',
    backend: 'nft',
    argv: run('nft', 10),
    trigger: LAST_TEARDOWN,
    // The reports of one case take ≈0.3 s here: most kills should land inside them.
    windowMs: 250,
    full: false,
  },
  {
    name: 'run ebpf: report writing @10,000',
    command: 'run',
    backend: 'ebpf',
    argv: run('ebpf', 10_000),
    trigger: LAST_TEARDOWN,
    windowMs: 400,
    full: true,
  },
  ...['nft', 'ebpf'].map((b): Scenario => ({
    name: `sync ${b}`,
    command: 'sync',
    backend: b,
    argv: (out) => ['sync', '--backend', b, '--services', '100,300', '--repeat', '1', '--out', out],
    trigger: /^\[1\/\d+\]/,
    windowMs: b === 'ebpf' ? 400 : 1200,
    full: false,
  })),
  {
    name: 'sync nft,iptables-restore @10,000',
    command: 'sync',
    backend: 'nft,iptables-restore',
    argv: (out) => ['sync', '--backend', 'nft,iptables-restore', '--services', '3000,10000', '--repeat', '1', '--out', out],
    trigger: /^\[1\/\d+\]/,
    windowMs: 20_000,
    full: true,
  },
  ...['nft', 'ebpf', 'ipvs'].map((b): Scenario => ({
    name: `run --kernel guest ${b}: boot`,
    command: 'run',
    backend: b,
    argv: run(b, 100, ['--kernel', 'guest']),
    trigger: /^guest \w+: booting/,
    windowMs: 12_000,
    full: true,
    guest: true,
  })),
  {
    name: 'run --kernel guest ipvs: case',
    command: 'run',
    backend: 'ipvs',
    argv: run('ipvs', 100, ['--kernel', 'guest']),
    trigger: CASE,
    windowMs: 3000,
    full: true,
    guest: true,
  },
  {
    name: 'verify --kernel guest ipvs',
    command: 'verify',
    backend: 'ipvs',
    argv: () => ['verify', '--backend', 'ipvs', '--kernel', 'guest'],
    trigger: /^guest \w+: booting/,
    windowMs: 30_000,
    full: true,
    guest: true,
  },
];

/** Where in its command a kill landed: the phase named by the last marker line before the kill.
 * A marker with `after` counts only in one of those phases (the rule commands of a full sync are
 * told from the partial syncs' that follow it). */
const MARKERS: { re: RegExp; phase: string; after?: string[] }[] = [
  { re: /^guest \w+: booting/, phase: 'guest boot' },
  { re: /^(run|sync run) \S+: results in|^verifying /, phase: 'preflight' },
  { re: /^\+ ip -batch -/, phase: 'sandbox build' },
  { re: /^\+ mount -t bpf/, phase: 'servers start' },
  { re: /^\+ \[svcb-\w+-node\] (nft|iptables|sh -c)/, phase: 'full sync', after: ['servers start', 'sandbox build'] },
  { re: /^\+ \[svcb-\w+-node\] tc (qdisc del|-batch)/, phase: 'BPF load', after: ['servers start', 'sandbox build'] },
  { re: /: full sync \d+ ms/, phase: 'partial syncs' },
  { re: /^full sync of /, phase: 'checks' },
  { re: /^\[\d+\/\d+/, phase: 'case' },
  { re: /^ {2}→ /, phase: 'between cases' },
  { re: /^\+ ip -force -batch/, phase: 'teardown' },
  { re: /^reports: |^check +result/, phase: 'finishing' },
];

/** The phase of a command at the moment of a kill, from its output lines before the kill. The
 * caller refines 'teardown' of bench run into 'report writing' when run.json was finished. */
export function phaseAt(lines: readonly string[], s: Scenario): string {
  let phase = 'start';
  let inGuest = false;
  for (const line of lines) {
    if (s.guest && phase === 'guest boot' && /^\+ \S+ (--)?version$/.test(line)) inGuest = true;
    for (const m of MARKERS) if (m.re.test(line) && (m.after === undefined || m.after.includes(phase))) phase = m.phase;
  }
  if (s.command === 'sync' && phase === 'case') phase = 'sync point';
  if (s.command === 'sync' && phase === 'between cases') phase = 'between points';
  if (s.command === 'up' && phase === 'servers start') phase = 'bpffs mounted';
  return inGuest ? `guest: ${phase === 'guest boot' ? 'preflight' : phase}` : phase;
}
