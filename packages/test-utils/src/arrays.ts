// Array comparisons for numeric tests. A failure names the first offending index and both values, so a
// broken kernel shows where it broke, not only that it did.

import { maxAbsDiff as maxFlatDiff } from '@ziplm/core';

/** A number, a flat numeric array, or arrays of those nested to any depth (e.g. logits per row). */
export type NestedNumbers = number | ArrayLike<number> | readonly NestedNumbers[];

function isNumericArray(x: unknown): x is ArrayLike<number> {
  if (ArrayBuffer.isView(x)) return !(x instanceof DataView);
  return Array.isArray(x) && (x.length === 0 || typeof x[0] === 'number');
}

function describeValue(x: unknown): string {
  return Array.isArray(x) ? `an array of ${x.length}` : ArrayBuffer.isView(x) ? 'a typed array' : typeof x;
}

/**
 * The largest |actual[i] − expected[i]| over two arrays of the same shape: @ziplm/core's `maxAbsDiff`,
 * extended to nested arrays compared element by element. NaN when any difference is NaN, so a NaN never
 * passes a `< tolerance` check. Throws when the shapes differ or a value is not a number. Takes `unknown`
 * so that what tfjs's `arraySync()` returns can be passed as it is.
 */
export function maxAbsDiff(actual: unknown, expected: unknown): number {
  if (typeof actual === 'number' && typeof expected === 'number') return Math.abs(actual - expected);
  if (isNumericArray(actual) && isNumericArray(expected)) return maxFlatDiff(actual, expected);
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length)
      throw new Error(`maxAbsDiff: lengths differ (actual ${actual.length}, expected ${expected.length})`);
    let max = 0;
    for (let i = 0; i < actual.length; i++) max = Math.max(max, maxAbsDiff(actual[i], expected[i]));
    return max;
  }
  throw new Error(`maxAbsDiff: shapes differ (actual is ${describeValue(actual)}, expected ${describeValue(expected)})`);
}

function flatten(x: NestedNumbers, out: number[]): number[] {
  if (typeof x === 'number') out.push(x);
  else if (isNumericArray(x)) for (let i = 0; i < x.length; i++) out.push(x[i]!);
  else for (const item of x as readonly NestedNumbers[]) flatten(item, out);
  return out;
}

function preview(values: readonly number[], around: number): string {
  const start = Math.max(0, around - 3);
  const end = Math.min(values.length, around + 4);
  return `${start > 0 ? '…, ' : ''}${values.slice(start, end).join(', ')}${end < values.length ? ', …' : ''}`;
}

/**
 * Asserts |actual[i] − expected[i]| ≤ tolerance for every element, as tfjs-core's `expectArraysClose`
 * (default tolerance 1e-3, tfjs's float32 test epsilon). Equal infinities match; NaN matches only NaN.
 * Nested arrays are compared in row-major order after checking that their element counts agree.
 */
export function expectArraysClose(actual: NestedNumbers, expected: NestedNumbers, tolerance = 1e-3): void {
  if (!(tolerance >= 0)) throw new RangeError(`expectArraysClose: tolerance must be >= 0, got ${tolerance}`);
  const a = flatten(actual, []);
  const e = flatten(expected, []);
  if (a.length !== e.length) throw new Error(`expectArraysClose: actual has ${a.length} values, expected ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    const close = Number.isNaN(y) ? Number.isNaN(x) : x === y || Math.abs(x - y) <= tolerance;
    if (!close) {
      throw new Error(
        `expectArraysClose: values differ at index ${i}: actual ${x}, expected ${y} (|difference| ${Math.abs(x - y)} > tolerance ${tolerance})\n` +
          `  actual:   [${preview(a, i)}]\n  expected: [${preview(e, i)}]`,
      );
    }
  }
}
