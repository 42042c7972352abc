/** Time, injected where code waits or timestamps so tests can drive it (DESIGN.md §15). */
export interface Clock {
  /** Milliseconds on the machine's monotonic clock (CLOCK_MONOTONIC), sub-millisecond precise:
   * one clock for every process here, so the programming-latency prober's send times (its
   * monotonicMs) compare with it directly. Not wall time: only differences mean anything. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Number(process.hrtime.bigint()) / 1e6,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
