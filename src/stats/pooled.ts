// Ratio estimators over units that each count something (a numerator) over some amount of
// exposure (a denominator): Σ numerators / Σ denominators, with a percentile-bootstrap CI that
// resamples whole units (Efron & Tibshirani 1993, ch. 9.3 and 13; Cochran 1977, ch. 6, the ratio
// estimator). For a count that is sparse in each unit (kernel samples of one function group, a
// few dozen per repetition), it weighs each unit by its exposure instead of giving a unit with
// few samples, whose own ratio is mostly Poisson noise, as much say as the median would.
import { createRng } from './prng.js';
import { degenerateInterval, percentileInterval, resolve, type ConfidenceInterval } from './bootstrap.js';

export interface RatioUnit {
  numerator: number;
  denominator: number;
}

export interface PooledOptions {
  resamples?: number;
  level?: number;
  seed?: number;
}

/** Σ numerators / Σ denominators; NaN without exposure. */
export function pooledRatio(units: readonly RatioUnit[]): number {
  let n = 0;
  let d = 0;
  for (const u of units) {
    n += u.numerator;
    d += u.denominator;
  }
  return d > 0 ? n / d : Number.NaN;
}

function check(units: readonly RatioUnit[], what: string): void {
  for (const [i, u] of units.entries())
    if (!(Number.isFinite(u.numerator) && Number.isFinite(u.denominator) && u.denominator > 0))
      throw new RangeError(`${what}: unit ${i} is ${u.numerator} / ${u.denominator}: the denominator must be positive and both finite`);
}

function interval(
  estimate: number,
  draws: (draw: (units: readonly RatioUnit[]) => number) => number,
  groups: readonly (readonly RatioUnit[])[],
  opts: PooledOptions,
): ConfidenceInterval {
  const o = resolve(opts);
  if (groups.some((g) => g.length < 2)) return degenerateInterval(estimate, o);
  const rng = createRng(o.seed);
  const draw = (units: readonly RatioUnit[]) => {
    let n = 0;
    let d = 0;
    for (let i = 0; i < units.length; i++) {
      const u = units[rng.nextInt(units.length)]!;
      n += u.numerator;
      d += u.denominator;
    }
    return n / d;
  };
  return percentileInterval(
    estimate,
    Array.from({ length: o.resamples }, () => draws(draw)),
    o,
  );
}

/** The pooled ratio of `units` with its percentile-bootstrap CI over units (degenerate below 2). */
export function bootstrapPooledCI(units: readonly RatioUnit[], opts: PooledOptions = {}): ConfidenceInterval {
  check(units, 'a');
  return interval(pooledRatio(units), (draw) => draw(units), [units], opts);
}

/** pooledRatio(b) − pooledRatio(a) of two independent groups of units, each resampled on its
 * own (a first, then b, from one seeded stream). */
export function bootstrapPooledDifferenceCI(
  a: readonly RatioUnit[],
  b: readonly RatioUnit[],
  opts: PooledOptions = {},
): ConfidenceInterval {
  check(a, 'the first group');
  check(b, 'the second group');
  return interval(
    pooledRatio(b) - pooledRatio(a),
    (draw) => {
      const x = draw(a);
      return draw(b) - x;
    },
    [a, b],
    opts,
  );
}
