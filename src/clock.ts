/** Time, injected where code waits or timestamps so tests can drive it (DESIGN.md §15). */
export interface Clock {
  /** Milliseconds since the epoch, sub-millisecond precise (performance.timeOrigin-based, the
   * clock the prober's atMs uses). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
