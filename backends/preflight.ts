import type { Exec, ExecResult } from '../src/exec/index.js';
import { bpffsSupported, btfAvailable, cgroup2Mount, readKernelConfig } from '../src/host/kernel.js';
import type { Check, Preflight } from './types.js';

// Building blocks every backend's preflight uses. Preflight reads the host and runs `--version`
// style commands only, through the exec port outside any namespace; it never changes anything.

const THERE: ExecResult = { stdout: '', stderr: '', exitCode: 0, durationMs: 0 };

/** A binary on PATH and its version line; `pkg` names the Debian package that provides it. Any exit
 * code counts as present (some tools exit non-zero after printing their version); a command that
 * cannot start, or times out, does not. */
export async function binary(exec: Exec, file: string, versionArgs: string[], pkg: string): Promise<Check> {
  try {
    const r = await exec.observe(() => exec.run({ argv: [file, ...versionArgs], allowFailure: true, timeoutMs: 5000 }), THERE);
    return { what: file, state: 'ok', detail: versionDetail([file, ...versionArgs].join(' '), r) };
  } catch {
    return { what: file, state: 'missing', fix: `apt-get install ${pkg} (or run scripts/setup)` };
  }
}

/** What the environment table says about a tool: its version line, or "unavailable: REASON" when
 * the output has none (`ipvsadm --version` on a kernel without IP_VS prints only modprobe's and
 * ipvsadm's errors and exits 2: an error is no version). */
export function versionDetail(command: string, r: Pick<ExecResult, 'stdout' | 'stderr' | 'exitCode'>): string {
  const line = versionLine(`${r.stdout}\n${r.stderr}`);
  if (line !== '') return line;
  const said = `${r.stderr}\n${r.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  // The tool's own last word says why (modprobe's line comes first, ipvsadm's reason after it).
  const why = said.find((l) => !/^modprobe:/.test(l) && ERROR.test(l)) ?? said[0];
  return `unavailable: \`${command}\` ${r.exitCode === 0 ? 'printed no version' : `exited ${r.exitCode}`}${why === undefined ? '' : ` (${why})`}`;
}

/** Lines that are error messages, never a version line, whatever digits they hold. */
const ERROR = /error|fatal|not found|can't|cannot|unable|no such|not available|not supported|permission denied/i;

/** The line of a `--version` output that names the version: one with "version" or a word like
 * "v1.31" first (`ipvsadm --version` on a kernel without IP_VS first prints modprobe's error,
 * whose module path also holds digits and dots), else the first line with a number like 1.2. */
export function versionLine(output: string): string {
  const lines = output.split('\n').filter((l) => !ERROR.test(l));
  const line = lines.find((l) => /(^|\s)v\d+\.\d+|version/i.test(l)) ?? lines.find((l) => /\d+\.\d+/.test(l)) ?? '';
  return line.trim();
}

let cached: { config: Map<string, string> | undefined } | undefined;

/** Kernel options that must be built in (y) or available as modules (m). */
export function kernelOptions(names: string[]): Check[] {
  cached ??= { config: readKernelConfig() };
  const config = cached.config;
  return names.map((name) => {
    if (config === undefined) return { what: name, state: 'ok', detail: 'unknown (no /proc/config.gz); probed at run time' };
    const v = config.get(name);
    return v === 'y' || v === 'm'
      ? { what: name, state: 'ok', detail: v === 'y' ? 'built in' : 'module' }
      : {
          what: name,
          state: 'missing',
          detail: 'is not set',
          // One fix for every missing option (verdict() joins distinct fixes): the reason names them.
          fix: 'a kernel built with the missing CONFIG_ options, or run inside a guest kernel (--kernel guest)',
        };
  });
}

export function cgroup2(): Check {
  const at = cgroup2Mount();
  return at
    ? { what: 'cgroup2', state: 'ok', detail: `mounted at ${at}` }
    : { what: 'cgroup2', state: 'missing', fix: 'mount -t cgroup2 none /sys/fs/cgroup/unified' };
}

export function bpffs(): Check {
  return bpffsSupported()
    ? { what: 'bpffs', state: 'ok', detail: 'supported (each run mounts its own)' }
    : { what: 'bpffs', state: 'missing', fix: 'a kernel with CONFIG_BPF_SYSCALL' };
}

export function btf(): Check {
  return btfAvailable()
    ? { what: 'BTF', state: 'ok', detail: '/sys/kernel/btf/vmlinux' }
    : { what: 'BTF', state: 'missing', fix: 'a kernel built with CONFIG_DEBUG_INFO_BTF' };
}

/** The verdict: ready when every check passed, else unavailable naming the first failures. */
export function verdict(checks: Check[]): Preflight {
  const missing = checks.filter((c) => c.state === 'missing');
  if (missing.length === 0) return { state: 'ready', checks };
  const reason = missing.map((c) => `${c.what}${c.detail ? ` ${c.detail}` : ' not found'}`).join('; ');
  const fix = [...new Set(missing.map((c) => c.fix).filter(Boolean))].join('; ');
  return { state: 'unavailable', reason, fix, checks };
}
