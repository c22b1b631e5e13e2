// Comparing numeric outputs: two engines (tfjs and onnxruntime), an export and its source model, or a
// kernel and its oracle agree when the largest elementwise difference is within a tolerance.

/**
 * The largest |a[i] − b[i]|; 0 for two empty arrays. NaN when any difference is NaN (Math.max propagates
 * it), so a NaN never passes a `<= tolerance` check. Throws a RangeError when the lengths differ.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`maxAbsDiff: lengths differ (${a.length} and ${b.length})`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
