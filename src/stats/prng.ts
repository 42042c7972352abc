// Seeded pseudo-random numbers, so a bootstrap interval can be reproduced from the seed recorded
// in run.json. Nothing here reads a clock or Math.random.
//
// Generator: xoshiro128** 1.1 (D. Blackman, S. Vigna, "Scrambled Linear Pseudorandom Number
// Generators", ACM TOMS 47(4), 2021; reference C: https://prng.di.unimi.it/xoshiro128starstar.c).
// 32-bit arithmetic only (Math.imul), period 2^128 − 1, so even 2000 resamples of 10^6 values
// use a negligible part of the stream.
// Seeding: the 128-bit state is filled from two SplitMix64 outputs, as the authors recommend
// (https://prng.di.unimi.it/splitmix64.c). SplitMix64's output function is a bijection of its
// counter, so two consecutive outputs are never both zero and the state is never all-zero.

const MASK64 = (1n << 64n) - 1n;
const TWO_POW_32 = 4294967296;

/** SplitMix64 (Steele, Lea, Flood, OOPSLA 2014), as in Vigna's splitmix64.c. */
export function splitMix64(seed: bigint): () => bigint {
  let x = BigInt.asUintN(64, seed);
  return () => {
    x = (x + 0x9e3779b97f4a7c15n) & MASK64;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  };
}

const rotl32 = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** Raw xoshiro128** from an explicit state (four uint32 words); returns uint32 outputs. */
export function xoshiro128StarStar(state: readonly [number, number, number, number]): () => number {
  let [s0, s1, s2, s3] = state.map((w) => w >>> 0) as [number, number, number, number];
  if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
  return () => {
    const result = Math.imul(rotl32(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl32(s3, 11);
    return result;
  };
}

export interface Rng {
  /** The seed this generator was created from (record it to reproduce a result). */
  readonly seed: number;
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform float in [0, 1), a multiple of 2^-32. */
  nextFloat(): number;
  /** Uniform integer in [0, bound), without modulo bias; bound is an integer in [1, 2^32]. */
  nextInt(bound: number): number;
}

/** A reproducible generator: the same safe-integer seed always yields the same stream. */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed is ${seed}: it must be a safe integer`);
  const next64 = splitMix64(BigInt(seed));
  const a = next64();
  const b = next64();
  const word = (x: bigint, shift: bigint): number => Number((x >> shift) & 0xffffffffn);
  const nextUint32 = xoshiro128StarStar([word(a, 0n), word(a, 32n), word(b, 0n), word(b, 32n)]);
  return {
    seed,
    nextUint32,
    nextFloat: () => nextUint32() / TWO_POW_32,
    nextInt(bound: number): number {
      if (!Number.isInteger(bound) || bound < 1 || bound > TWO_POW_32) {
        throw new RangeError(`bound is ${bound}: it must be an integer in [1, 2^32]`);
      }
      // Rejection as in OpenBSD's arc4random_uniform: discard the lowest 2^32 mod bound
      // values so every residue is equally likely.
      const rejectBelow = TWO_POW_32 % bound;
      for (;;) {
        const r = nextUint32();
        if (r >= rejectBelow) return r % bound;
      }
    },
  };
}
