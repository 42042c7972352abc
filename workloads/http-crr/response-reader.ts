// HTTP/1.x responses read straight from the receive buffer, for the http-crr client's own sockets
// (client.ts): the only client that speaks HTTP without node:http.

export class HttpParseError extends Error {
  readonly code = 'HTTP_PARSE';
}

const CR = 13;
const LF = 10;
const MAX_HEAD = 64 * 1024;

/** `name` (lower case) equals b[from, to) ignoring ASCII case. */
function nameIs(b: Buffer, from: number, to: number, name: string): boolean {
  if (to - from !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((b[from + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/**
 * Incremental reader of HTTP/1.x responses for the clients' own sockets: status, a body framed
 * by Content-Length (or by the end of the connection), whether the server keeps the connection
 * open, the response's size, and the values of a few named headers, scanned byte by byte in the
 * receive buffer (one small string per wanted header, nothing else allocated per response when
 * the head arrives in one read). It is not a general client: chunked bodies and 1xx interim
 * responses are reported as HttpParseError, and svcbench's servers send neither
 * (workloads/http/server.ts always sets Content-Length).
 */
export class HttpResponseReader {
  /** Fields of the last completed response (or of the one being read). */
  status = 0;
  /** Bytes of the response: status line, headers and body. */
  bytes = 0;
  /** The server keeps the connection open after this response. */
  keepAlive = true;
  /** Values of the wanted headers, in the order of `headerNames`; undefined when absent. */
  readonly values: (string | undefined)[];
  private readonly names: string[];
  /** Head bytes seen so far when a head spans reads (rare: heads are a few hundred bytes). */
  private head: Buffer | undefined;
  private headLen = 0;
  /** Body bytes still to come; -1 while reading a head; Infinity: until the connection ends. */
  private bodyLeft = -1;

  constructor(headerNames: readonly string[] = []) {
    this.names = headerNames.map((n) => n.toLowerCase());
    this.values = this.names.map(() => undefined);
  }

  /** Forget a partial response (a new connection). */
  reset(): void {
    this.headLen = 0;
    this.bodyLeft = -1;
    this.bytes = 0;
  }

  /** Part of a response has arrived and not all of it. */
  get partial(): boolean {
    return this.headLen > 0 || this.bodyLeft >= 0;
  }

  /**
   * Reads b[start, end). Returns the offset just after a response that completed there (its
   * fields are then set; bytes after it belong to the next response), or -1 when all bytes were
   * consumed without completing one. Throws HttpParseError on a malformed response.
   */
  push(b: Buffer, start: number, end: number): number {
    let i = start;
    if (this.bodyLeft < 0) {
      if (this.headLen === 0) this.bytes = 0;
      if (this.headLen === 0) {
        const headEnd = findHeadEnd(b, start, end);
        if (headEnd < 0) {
          this.keepHead(b, start, end);
          return -1;
        }
        this.parseHead(b, start, headEnd);
        this.bytes += headEnd - start;
        i = headEnd;
      } else {
        const before = this.headLen;
        this.keepHead(b, start, end);
        const inHead = findHeadEnd(this.head!, Math.max(0, before - 3), this.headLen);
        if (inHead < 0) return -1;
        this.parseHead(this.head!, 0, inHead);
        this.bytes -= this.headLen - inHead; // keepHead counted this read's bytes past the head
        this.headLen = 0;
        i = start + (inHead - before);
      }
    }
    const avail = end - i;
    if (avail >= this.bodyLeft) {
      const done = i + this.bodyLeft;
      this.bytes += this.bodyLeft;
      this.bodyLeft = -1;
      return done;
    }
    this.bodyLeft -= avail;
    this.bytes += avail;
    return -1;
  }

  /** The connection ended: true when that completes a response (a body delimited by the end). */
  end(): boolean {
    if (this.bodyLeft !== Infinity) return false;
    this.bodyLeft = -1;
    return true;
  }

  private keepHead(b: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.headLen + n > MAX_HEAD) throw new HttpParseError(`response head longer than ${MAX_HEAD} bytes`);
    if (this.head === undefined || this.head.length < this.headLen + n) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_HEAD, Math.max(1024, 2 * (this.headLen + n))));
      this.head?.copy(grown, 0, 0, this.headLen);
      this.head = grown;
    }
    b.copy(this.head, this.headLen, start, end);
    this.headLen += n;
    this.bytes += n;
  }

  /** Parses the head b[s, e) (e just after the blank line) and sets up the body. */
  private parseHead(b: Buffer, s: number, e: number): void {
    // "HTTP/1.x NNN": 'H' 'T' 'T' 'P' '/' '1' '.' then the minor version, a space, three digits
    if (
      e - s < 12 ||
      b[s] !== 72 ||
      b[s + 1] !== 84 ||
      b[s + 2] !== 84 ||
      b[s + 3] !== 80 ||
      b[s + 4] !== 47 ||
      b[s + 5] !== 49 ||
      b[s + 6] !== 46 ||
      b[s + 8] !== 32
    )
      throw new HttpParseError(`not an HTTP/1.x status line: ${JSON.stringify(b.toString('latin1', s, Math.min(e, s + 40)))}`);
    let status = 0;
    for (let k = s + 9; k < s + 12; k++) {
      const d = b[k]! - 48;
      if (d < 0 || d > 9) throw new HttpParseError('status code is not 3 digits');
      status = status * 10 + d;
    }
    this.status = status;
    this.keepAlive = b[s + 7] === 49; // HTTP/1.1 keeps the connection by default, 1.0 does not
    for (let n = 0; n < this.values.length; n++) this.values[n] = undefined;
    let contentLength = -1;
    let line = b.indexOf(LF, s) + 1;
    // Header lines up to the blank line (e - 2 is its CR LF).
    while (line < e - 2) {
      let eol = line;
      while (b[eol] !== LF) eol++;
      const valueEnd = b[eol - 1] === CR ? eol - 1 : eol;
      let colon = line;
      while (colon < valueEnd && b[colon] !== 58) colon++;
      if (colon === valueEnd) throw new HttpParseError('header line without a colon');
      let v = colon + 1;
      while (v < valueEnd && (b[v] === 32 || b[v] === 9)) v++;
      let ve = valueEnd;
      while (ve > v && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
      if (nameIs(b, line, colon, 'content-length')) {
        if (v === ve) throw new HttpParseError('empty Content-Length');
        contentLength = 0;
        for (let k = v; k < ve; k++) {
          const d = b[k]! - 48;
          if (d < 0 || d > 9) throw new HttpParseError('Content-Length is not a number');
          contentLength = contentLength * 10 + d;
        }
      } else if (nameIs(b, line, colon, 'connection')) {
        // The usual single token compared in place; a list goes through a string.
        if (nameIs(b, v, ve, 'keep-alive')) this.keepAlive = true;
        else if (nameIs(b, v, ve, 'close')) this.keepAlive = false;
        else {
          const tokens = b.toString('latin1', v, ve).toLowerCase();
          if (tokens.includes('close')) this.keepAlive = false;
          else if (tokens.includes('keep-alive')) this.keepAlive = true;
        }
      } else if (nameIs(b, line, colon, 'transfer-encoding')) {
        if (!nameIs(b, v, ve, 'identity'))
          throw new HttpParseError('Transfer-Encoding responses are not supported (svcbench servers send Content-Length)');
      } else {
        for (let n = 0; n < this.names.length; n++)
          if (nameIs(b, line, colon, this.names[n]!)) this.values[n] = b.toString('latin1', v, ve);
      }
      line = eol + 1;
    }
    if (status < 200) throw new HttpParseError(`interim response ${status} is not supported`);
    if (status === 204 || status === 304) this.bodyLeft = 0;
    else if (contentLength >= 0) this.bodyLeft = contentLength;
    else {
      // No length: the body ends with the connection (RFC 9112 §6.3).
      this.bodyLeft = Infinity;
      this.keepAlive = false;
    }
  }
}

/** Offset just after the first CR LF CR LF in b[from, to), or -1. */
function findHeadEnd(b: Buffer, from: number, to: number): number {
  for (let k = from + 3; k < to; k++) {
    if (b[k] === LF && b[k - 1] === CR && b[k - 2] === LF && b[k - 3] === CR) return k + 1;
  }
  return -1;
}
