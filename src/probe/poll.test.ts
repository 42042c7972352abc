import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { monotonicMs, pollFirstAnswer } from './poll.js';

// The prober's pacing and bookkeeping against a loopback port that starts listening a known time
// later (before that, loopback refuses at once: the dropped-SYN case needs a sandbox and is
// test/e2e/programming-latency.test.ts).

const freePort = async (): Promise<number> => {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
};

describe('pollFirstAnswer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server?.listening) await new Promise((r) => server!.close(r));
  });

  it('finds the first answered attempt, one attempt about every millisecond', async () => {
    const port = await freePort();
    const t0 = monotonicMs();
    let listening = 0;
    server = createServer((s) => s.on('error', () => {}));
    setTimeout(() => server!.listen(port, '127.0.0.1', () => (listening = monotonicMs())), 30);
    const r = await pollFirstAnswer('127.0.0.1', port);
    expect(r.ok).toBe(true);
    expect(r.firstSentAtMs).toBeGreaterThanOrEqual(t0);
    // Answered after the port listened, and the attempt before the answered one started before
    // it did: the interval (previousSentAtMs, sentAtMs] holds the moment the port opened. (Its
    // length is the machine's: a descheduled thread widens it. The server and the prober share
    // this thread's event loop, so `listening` is read before any later attempt starts.)
    expect(r.sentAtMs!).toBeGreaterThanOrEqual(listening - 0.5);
    expect(r.previousSentAtMs!).toBeLessThan(listening);
    expect(r.failedFast).toBeGreaterThan(0);
    expect(r.attempts).toBeGreaterThanOrEqual(r.failedFast + 1);
    // ~30 attempts in ~30 ms: paced, not one per event-loop turn.
    expect(r.attempts).toBeLessThan(((r.sentAtMs! - r.firstSentAtMs) / 1) * 1.5 + 10);
  });

  it('gives up at its deadline and when aborted, saying so', async () => {
    const port = await freePort();
    const late = await pollFirstAnswer('127.0.0.1', port, { deadlineMs: 20 });
    expect(late).toMatchObject({ ok: false, error: 'no attempt answered within 20 ms' });
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 10);
    const stopped = await pollFirstAnswer('127.0.0.1', port, { signal: stop.signal });
    expect(stopped).toMatchObject({ ok: false, error: 'stopped before any attempt was answered' });
    expect(stopped.attempts).toBeGreaterThan(0);
  });
});
