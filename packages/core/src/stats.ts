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
