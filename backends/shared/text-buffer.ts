// Accumulates the lines of an nft transaction (and, through TextBuffer, the iptables-restore
// payload). A 10,000-service transaction is ~20 MB in ~185,000 lines.
//
// Lines are joined in small batches and each joined batch is copied into a Buffer that is
// reused from render to render; the text becomes one string once, at the end: batches kept as
// strings are copied by scavenges and promoted, here only the final string is (the alternatives
// measured are in backends/shared/README.md). The pool keeps at most three buffers of at most 64 MB.

const BATCH = 256;

/** Scratch buffers handed back by finished texts (a few, so that concurrent texts need not allocate). */
const pool: Buffer[] = [];
const POOL_MAX = 3;
const POOLED_MAX_BYTES = 64 << 20;

/** A pooled buffer: the smallest that holds `size` bytes when one does, else the largest. */
function take(size: number): Buffer {
  if (pool.length === 0) return Buffer.allocUnsafe(Math.max(size, 1 << 20));
  let pick = 0;
  for (let i = 1; i < pool.length; i++) {
    const b = (pool[i] as Buffer).length;
    const p = (pool[pick] as Buffer).length;
    const fitsB = size > 0 && b >= size;
    const fitsP = size > 0 && p >= size;
    if (fitsB ? !fitsP || b < p : !fitsP && b > p) pick = i;
  }
  return pool.splice(pick, 1)[0] as Buffer;
}

/**
 * Text built by appending strings, held as bytes in a pooled Buffer while it is all ASCII (the
 * transaction texts always are), and as strings from the first non-ASCII string on, so that any
 * text comes back exactly as appended.
 */
export class TextBuffer {
  private buf: Buffer | undefined;
  private len = 0;
  /** Set once a non-ASCII string was appended: the text as strings from then on. */
  private parts: string[] | undefined;

  /** `size`: the bytes expected, when known (a pooled buffer that fits is taken, else the largest). */
  constructor(size?: number) {
    this.buf = take(size ?? 0);
  }

  /** Bytes held (0 once the text is held as strings). */
  get byteLength(): number {
    return this.len;
  }

  append(s: string): void {
    if (this.parts !== undefined) {
      this.parts.push(s);
      return;
    }
    this.reserve(s.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 unit
    const buf = this.buf as Buffer;
    const n = buf.write(s, this.len, 'utf8');
    if (n === s.length) {
      this.len += n; // all ASCII
      return;
    }
    // Not ASCII: keep what came before (ASCII, so exact) and this string as strings.
    this.parts = this.len === 0 ? [s] : [buf.toString('latin1', 0, this.len), s];
    this.len = 0;
    this.release();
  }

  /** Appends another text (which stays usable). */
  appendText(t: TextBuffer): void {
    if (t.parts === undefined && this.parts === undefined) {
      this.reserve(t.len);
      (t.buf as Buffer).copy(this.buf as Buffer, this.len, 0, t.len);
      this.len += t.len;
    } else {
      this.append(t.toString(false));
    }
  }

  /** The text; with `release` (the default) its buffer goes back to the pool and the text is emptied. */
  toString(release = true): string {
    const s = this.parts !== undefined ? this.parts.join('') : this.len === 0 ? '' : (this.buf as Buffer).toString('latin1', 0, this.len);
    if (release) {
      this.len = 0;
      this.parts = [];
      this.release();
    }
    return s;
  }

  /** Gives the buffer back without making a string. */
  dispose(): void {
    this.len = 0;
    this.parts = [];
    this.release();
  }

  private reserve(extra: number): void {
    const buf = this.buf as Buffer;
    if (this.len + extra <= buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.len + extra, buf.length * 2));
    buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }

  private release(): void {
    const buf = this.buf;
    this.buf = undefined;
    if (buf !== undefined && pool.length < POOL_MAX && buf.length <= POOLED_MAX_BYTES) pool.push(buf);
  }
}

/** Lines, each followed by a newline, gathered in batches into a TextBuffer. */
export class ScriptWriter {
  private batch: string[] = [];
  private readonly text = new TextBuffer();
  /** Lines written so far. */
  lines = 0;

  line(s: string): void {
    this.batch.push(s);
    this.lines++;
    if (this.batch.length === BATCH) this.flush();
  }

  /** The lines so far as a TextBuffer (newline-terminated), for appending elsewhere. */
  textSoFar(): TextBuffer {
    this.flush();
    return this.text;
  }

  /** The transaction text, newline-terminated ('' when no line was written). Call once. */
  toString(): string {
    this.flush();
    return this.text.toString();
  }

  /** Gives the buffer back (after textSoFar() was appended elsewhere). */
  dispose(): void {
    this.batch = [];
    this.text.dispose();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.batch.push(''); // the last line's newline
    this.text.append(this.batch.join('\n'));
    this.batch = [];
  }
}
