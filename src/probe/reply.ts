// What a probe reports per target, and the parsing of an ident server's answer: kept apart from
// connect.ts, which runs its main when imported.

export interface ProbeResult {
  target: string;
  ok: boolean;
  reply?: string;
  /** From svcbench's ident server (serve.ts): the address it saw the connection come from… */
  peer?: string;
  /** …and the TTL the client's SYN arrived with (undefined when it could not tell). */
  ttl?: number;
  error?: string;
  ms: number;
}

/** A probe's connect-and-answer timeout unless its caller gives one (connect.js --timeout). */
export const PROBE_TIMEOUT_MS = 2000;

/** One target of a batch (connect.js --batch reads them on stdin); unset fields take the command
 * line's (TCP, --timeout). */
export interface ProbeRequest {
  target: string;
  udp?: boolean;
  timeoutMs?: number;
}

/** Splits an ident server's answer ("NAME PEER TTL") into its parts; other answers stay as they are. */
export function parseReply(text: string): Pick<ProbeResult, 'reply' | 'peer' | 'ttl'> {
  const m = /^(\S+) (\d+\.\d+\.\d+\.\d+) (\d+|\?)$/.exec(text);
  if (!m) return { reply: text };
  return { reply: m[1]!, peer: m[2]!, ...(m[3] === '?' ? {} : { ttl: Number(m[3]) }) };
}

/** The TTL every sender in a sandbox starts at (net.ipv4.ip_default_ttl's default, per namespace):
 * a server that sees 64 − n was reached over n routers. */
export const INITIAL_TTL = 64;
