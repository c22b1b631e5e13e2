// Robust statistics. Timing samples on a shared machine have a heavy right tail (another process takes
// a core for a while), so the centre is the median and the spread the median absolute deviation: both
// ignore a minority of slow samples, where a mean and a standard deviation would follow them.

/**
 * Linear-interpolated quantile (q in [0, 1]) of a sample, as numpy's default `quantile`; NaN for an
 * empty sample. Does not modify the input.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  // A typed array sorts numerically (Array#sort would compare strings).
  const sorted = Float64Array.from(values).sort();
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The median (mean of the two middle values for an even count); NaN for an empty sample. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Median absolute deviation from the median (unscaled: multiply by 1.4826 to estimate σ of normal noise). */
export function medianAbsoluteDeviation(values: ArrayLike<number>): number {
  const m = median(values);
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i]! - m);
  return median(deviations);
}

/**
 * The Wilson score interval of a binomial proportion: `successes` of `n` trials, `z` the normal
 * quantile of the two-sided level (1.96: 95%). Returns [low, high] as proportions in [0, 1].
 *
 * Why Wilson and not the textbook p ± z·√(p(1−p)/n): the textbook (Wald) interval collapses to a
 * point at 0% or 100% and undercovers near them and on small samples, which is exactly where a
 * pruned model at chance level or an agreement near 100% sits. Wilson inverts the score test, stays
 * inside [0, 1] and keeps close to its nominal coverage for any n (Brown, Cai & DasGupta 2001).
 * @throws {RangeError} when n is not a positive integer, successes is not an integer in [0, n], or z is not positive.
 */
export function wilsonInterval(successes: number, n: number, z = 1.96): [number, number] {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`wilsonInterval: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new RangeError(`wilsonInterval: successes must be an integer in [0, ${n}], got ${successes}`);
  }
  if (!(z > 0) || !Number.isFinite(z)) throw new RangeError(`wilsonInterval: z must be a positive number, got ${z}`);
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const halfWidth = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  // The exact bounds at 0 and n; clamping also removes float noise just outside [0, 1].
  return [successes === 0 ? 0 : Math.max(0, centre - halfWidth), successes === n ? 1 : Math.min(1, centre + halfWidth)];
}
