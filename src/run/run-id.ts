import { insideGuest } from '../guest/detect.js';

// The id of a results directory: the start time (UTC, to the second) and a run id (names.ts),
// e.g. 20261206-101342-5m3jbo.

export const resultsRunId = (id: string, at = new Date()): string =>
  `${at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}-${id}`;

const RESULTS_RUN_ID = /^\d{8}-\d{6}-[a-z0-9]{6}$/;

/** Inside a guest kernel (--kernel guest), the results id the host chose: the host records the
 * results' temporary file under that directory before the guest boots (src/guest/runner.ts), so
 * `bench clean` on the host removes it when the guest dies mid-write. Undefined elsewhere. */
export function guestRunId(): string | undefined {
  const id = process.env.SVCBENCH_RUN_ID;
  return id !== undefined && RESULTS_RUN_ID.test(id) && insideGuest() ? id : undefined;
}
