import { DryRunExec, PrintingExec, RealExec, type Exec } from '../exec/index.js';

/** What every command gets: the exec port (real, printing, or the dry-run one) and the
 * two output streams. stdout carries data, stderr carries people's output (DESIGN.md §7). */
export interface Context {
  exec: Exec;
  out: (text: string) => void;
  say: (line: string) => void;
}

export interface GlobalOptions {
  printCommands?: boolean;
  dryRun?: boolean;
}

export function makeContext(g: GlobalOptions, io: { out: (t: string) => void; say: (l: string) => void } = defaultIo): Context {
  let exec: Exec;
  if (g.dryRun) exec = new DryRunExec((l) => io.say(l));
  else if (g.printCommands) exec = new PrintingExec(new RealExec(), (l) => io.say(l));
  else exec = new RealExec();
  return { exec, ...io };
}

export const defaultIo = {
  out: (t: string) => void process.stdout.write(t),
  say: (l: string) => void process.stderr.write(`${l}\n`),
};
