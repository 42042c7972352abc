// Input checks shared by the statistics functions. Every public function rejects empty or
// non-finite input up front: a NaN would silently poison a sort and JSON turns NaN into null.

export function assertNonEmptyFinite(xs: readonly number[], what = 'sample'): void {
  if (xs.length === 0) throw new RangeError(`${what} is empty: at least one value is needed`);
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RangeError(`${what}[${i}] is ${String(x)}: every value must be a finite number`);
    }
  }
}

/** A probability or confidence level: finite and within [0, 1] (or (0, 1) when open). */
export function assertUnitInterval(p: number, what: string, open = false): void {
  const ok = Number.isFinite(p) && (open ? p > 0 && p < 1 : p >= 0 && p <= 1);
  if (!ok) throw new RangeError(`${what} is ${p}: it must lie in ${open ? '(0, 1)' : '[0, 1]'}`);
}

export function assertPositiveInteger(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} is ${n}: it must be a positive integer`);
}
