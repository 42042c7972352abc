// Progress on stderr (DESIGN.md §7): on a TTY one line rewritten in place, otherwise plain lines.

export class Progress {
  private readonly started = performance.now();
  private done = 0;
  constructor(
    private total: number,
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
  ) {}

  /** Reports the case about to run. */
  step(label: string): void {
    const eta = this.done === 0 ? '' : `, ETA ${fmtDuration(((performance.now() - this.started) / this.done) * (this.total - this.done))}`;
    const line = `[${this.done + 1}/${this.total}${eta}] ${label}`;
    this.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }

  /** More cases were planned (an adaptive extra round): the total and the ETA grow. */
  grow(cases: number): void {
    this.total += cases;
  }

  /** The step is over; it ran `cases` cases (a paired unit runs several at once). */
  finishStep(outcome: string, cases = 1): void {
    this.done += cases;
    if (!this.tty) this.write(`  → ${outcome}\n`);
  }

  end(): void {
    if (this.tty) this.write('\r\x1b[K');
  }
}

export const fmtDuration = (ms: number): string => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
};
