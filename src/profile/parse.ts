// Reads `perf script -F comm,pid,tid,cpu,period,event,ip,sym,dso` output (perf 6.1) of a
// `perf record -a -g --kernel-callchains` recording. Each sample is a header line
//   "<comm> <pid>/<tid> [<cpu>] <period> <event>:"
// followed by its call chain, one frame per line, leaf first:
//   "\t<hex ip> <symbol> (<dso>)"
// and a blank line. With kernel-only call chains a sample taken in user mode has no frames.

export interface PerfSample {
  comm: string;
  pid: number;
  tid: number;
  cpu: number;
  /** The event's period: nanoseconds of CPU for cpu-clock. */
  period: number;
  /** Symbols of the kernel call chain, leaf first ("[unknown]" when perf could not name one). */
  frames: string[];
}

// comm may contain spaces ("Chrome IO"), so the fixed fields are read from the right.
const HEADER = /^(.*?)\s+(-?\d+)\/(-?\d+)\s+\[(\d+)\]\s+(\d+)\s+([^\s:]+(?::[^\s:]+)?):\s*$/;
const FRAME = /^\s+([0-9a-f]+)\s+(.*?)\s+\(([^()]*)\)\s*$/;

/** Parses every sample; lines that are neither a header nor a frame (perf's warnings) are skipped. */
export function parsePerfScript(text: string): PerfSample[] {
  const out: PerfSample[] = [];
  let cur: PerfSample | undefined;
  for (const line of text.split('\n')) {
    if (line.length === 0) {
      cur = undefined;
      continue;
    }
    if (line.charCodeAt(0) === 9 || line.charCodeAt(0) === 32) {
      if (cur === undefined) continue;
      const f = FRAME.exec(line);
      if (f !== null) cur.frames.push(normalSymbol(f[2]!));
      continue;
    }
    const h = HEADER.exec(line);
    if (h === null) continue;
    cur = { comm: h[1]!, pid: Number(h[2]), tid: Number(h[3]), cpu: Number(h[4]), period: Number(h[5]), frames: [] };
    out.push(cur);
  }
  return out;
}

/** The function's own name: "tcp_v4_connect+0x1a" → "tcp_v4_connect" (perf prints offsets with
 * -F symoff), and without the compiler's clone suffixes ("do_softirq.part.0", "__tcf_classify.constprop.0",
 * "finish_task_switch.isra.0", "ip_rcv.cold"), which name parts of one function. */
export function normalSymbol(sym: string): string {
  const plus = sym.lastIndexOf('+0x');
  const bare = plus > 0 ? sym.slice(0, plus) : sym;
  return bare.replace(/(\.(part|constprop|isra|cold|llvm|lto_priv)(\.\d+)?)+$/, '');
}
