import { Socket } from 'node:net';

// Network-programming latency, measured from inside a pod: new TCP connections to a Service's
// address, one started every `everyMs` without waiting for earlier ones, each timestamped just
// before and just after its connect() system call. The SYN leaves inside that call, and usually
// crosses the node inside it too: a veth hands it to its peer's backlog, and the softirq that runs
// the node's netfilter hooks runs when the sending path re-enables bottom halves (veth_xmit,
// netif_rx, local_bh_enable) unless it has been deferred to ksoftirqd; eBPF's connect-time
// rewrite runs in the call itself. The answer is the time the earliest answered attempt's call
// had returned, and the resolution is the interval from the start of the attempt before it: the
// rules appeared in (previous start, answered end]. Timestamping only before the call would place
// the rules too early by any stall between the timestamp and the call (a descheduled vCPU, a
// garbage collection); with both, a stall widens the interval instead.
//
// Why attempts overlap instead of following each other: a SYN to a ClusterIP that has no rules yet
// is dropped, not refused. The sandbox's node routes it to the external namespace, which forwards
// nothing; kube-proxy's nftables mode drops traffic to unallocated ClusterIPs on purpose
// ("cluster-ips-check" chain); nothing sends a RST or an ICMP error. A single prober must therefore
// wait out each attempt's timeout before trying again, which quantises the result to that timeout.
// Faking an answer for the unprogrammed address (a reject rule) would change the ruleset being
// measured and would not reach eBPF's socket-level rewrite (it happens in connect(), before any
// packet exists), so the prober overlaps attempts instead.
//
// Why each attempt lives less than a second: an unanswered SYN is retransmitted after the initial
// RTO of 1 s (RFC 6298 §2, the kernel's TCP_TIMEOUT_INIT). A retransmission sent after the rules
// appeared could be answered and credit the old attempt's send time. Closing every attempt before
// its first retransmission means an answered attempt was answered to its one and only SYN.
//
// Why the new connections do not pollute the measurement: each attempt is a fresh socket on a new
// ephemeral port (Linux hands out consecutive ports per destination, RFC 6056 algorithm 4), so a
// stale conntrack entry left by an earlier, dropped attempt (SYN_SENT, bound to no NAT) can only
// hold back an attempt that reuses its exact 4-tuple: that one attempt, never the next. Answered
// connections are closed with RST (no TIME_WAIT on either side, as the workloads' clients do).
// eBPF's connect-time rewrite looks at each socket once, in its own connect(): an attempt started
// before the map update is never rewritten and simply stays unanswered.

/** CLOCK_MONOTONIC in milliseconds: one clock for every process on the machine (unlike
 * performance.timeOrigin, which is each process's own wall-clock reading at its start), so the
 * caller's sync start and this prober's send times compare directly. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface PollOptions {
  /** Start a new attempt this often. */
  everyMs?: number;
  /** Close an unanswered attempt after this long (below the 1 s initial RTO). */
  attemptMs?: number;
  /** Give up this long after the first attempt. */
  deadlineMs?: number;
  /** After the first answer, wait this long for earlier attempts' answers still on their way. */
  settleMs?: number;
  /** Stops polling early (SIGTERM in the script): the result says no attempt was answered. */
  signal?: AbortSignal;
}

export interface PollResult {
  target: string;
  ok: boolean;
  /** Monotonic time by which the earliest answered attempt's SYN had left: its connect() had
   * returned. */
  sentAtMs?: number;
  /** Monotonic time just before the attempt before it called connect(): the rules appeared in
   * (previousSentAtMs, sentAtMs]. */
  previousSentAtMs?: number;
  /** From just before the earliest answered attempt's connect() to established. */
  connectMs?: number;
  /** Monotonic time just before the first attempt's connect(): the caller checks it preceded what
   * it times. */
  firstSentAtMs: number;
  attempts: number;
  /** Attempts refused or unreachable at once (RST, ICMP error) rather than left unanswered. */
  failedFast: number;
  /** The largest number of attempts in flight at once. */
  maxInFlight: number;
  error?: string;
}

/** When an attempt's connect() call began and when it had returned (monotonic ms). */
interface Bracket {
  before: number;
  after: number;
}
interface Answer {
  at: Bracket;
  connectMs: number;
}

/** The earliest answered attempt (by the start of its call) and the start of the one before it. */
function pollResult(base: Omit<PollResult, 'ok'>, sent: readonly Bracket[], answered: Answer[], error?: string): PollResult {
  const best = answered.sort((a, b) => a.at.before - b.at.before)[0];
  if (!best) return { ...base, ok: false, error: error ?? 'no attempt answered' };
  const i = sent.indexOf(best.at);
  return {
    ...base,
    ok: true,
    sentAtMs: best.at.after,
    ...(i > 0 ? { previousSentAtMs: sent[i - 1]!.before } : {}),
    connectMs: best.connectMs,
  };
}

export function pollFirstAnswer(host: string, port: number, o: PollOptions = {}): Promise<PollResult> {
  const { everyMs = 1, attemptMs = 500, deadlineMs = 30_000, settleMs = 20 } = o;
  const target = `${host}:${port}`;
  /** Each attempt's connect() bracket, in the order they were started. */
  const sent: Bracket[] = [];
  const answered: Answer[] = [];
  const open = new Set<Socket>();
  let failedFast = 0;
  let maxInFlight = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  return new Promise((resolve) => {
    const finish = (error?: string) => {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      for (const s of open) s.destroy();
      open.clear();
      resolve(
        pollResult(
          { target, firstSentAtMs: sent[0]?.before ?? monotonicMs(), attempts: sent.length, failedFast, maxInFlight },
          sent,
          answered,
          error,
        ),
      );
    };
    const attempt = () => {
      const sock = new Socket();
      let closed = false;
      open.add(sock);
      maxInFlight = Math.max(maxInFlight, open.size);
      const at = { before: monotonicMs(), after: NaN };
      sent.push(at);
      const close = (rst: boolean) => {
        if (closed) return;
        closed = true;
        clearTimeout(expiry);
        open.delete(sock);
        if (rst) sock.resetAndDestroy();
        else sock.destroy();
      };
      const expiry = setTimeout(() => close(false), attemptMs);
      sock.once('connect', () => {
        answered.push({ at, connectMs: monotonicMs() - at.before });
        close(true);
        if (answered.length === 1) {
          clearTimeout(timer);
          timer = setTimeout(finish, settleMs);
        }
      });
      sock.on('error', () => {
        if (closed) return;
        failedFast++;
        close(false);
      });
      // For an address (no lookup) Node makes the connect() call on the next tick (net.js
      // lookupAndConnect); ticks run in the order queued, so these two bracket the call alone.
      process.nextTick(() => (at.before = monotonicMs()));
      sock.connect({ host, port });
      process.nextTick(() => (at.after = monotonicMs()));
    };
    const start = monotonicMs();
    let next = start;
    // libuv's timers have millisecond granularity: each tick starts every attempt that is due, so
    // the average pace holds even when a tick comes late.
    const tick = () => {
      if (stopped || answered.length > 0) return;
      const now = monotonicMs();
      if (now - start > deadlineMs) return finish(`no attempt answered within ${deadlineMs} ms`);
      for (let k = 0; next <= now && k < 5; k++, next += everyMs) attempt();
      if (next <= now) next = now + everyMs; // far behind (a stalled loop): no burst
      timer = setTimeout(tick, Math.max(1, next - monotonicMs()));
    };
    o.signal?.addEventListener('abort', () => finish('stopped before any attempt was answered'));
    tick();
  });
}
