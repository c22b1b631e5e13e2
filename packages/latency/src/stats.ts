// Robust statistics for timings. On a shared machine timing samples have a heavy right tail (another
// process takes a core for a while), so the centre is the median and the spread is the median
// absolute deviation, both insensitive to a minority of slow samples.

// The generic statistics (median, MAD) have one owner, @ziplm/core; this module adds what is specific
// to timings.
import { median, medianAbsoluteDeviation } from '@ziplm/core';

/** A timing summary: the median and how far it can be trusted. */
export interface TimingSummary {
  /** Median of the samples (ms). */
  readonly median: number;
  /**
   * Relative dispersion: 1.4826·MAD / median, a robust coefficient of variation (1.4826·MAD
   * estimates the standard deviation for normal noise).
   */
  readonly dispersion: number;
  /**
   * Relative standard error of the median, ≈ 1.2533·σ / (√n · median) with σ = 1.4826·MAD: what
   * decides whether more samples are needed.
   */
  readonly relativeError: number;
  /** Number of samples. */
  readonly samples: number;
}

export function summarize(values: ArrayLike<number>): TimingSummary {
  const n = values.length;
  const m = median(values);
  const sigma = 1.4826 * medianAbsoluteDeviation(values);
  const dispersion = m > 0 ? sigma / m : 0;
  return { median: m, dispersion, relativeError: n > 0 ? (1.2533 * dispersion) / Math.sqrt(n) : Number.POSITIVE_INFINITY, samples: n };
}

/**
 * Least-squares non-decreasing fit (pool-adjacent-violators) of `values` in the given order, with
 * optional weights. Used to repair a level sequence whose times still decrease with size after
 * re-measurement (only when the caller asks for it).
 */
export function isotonicIncreasing(values: readonly number[], weights?: readonly number[]): number[] {
  const blocks: Array<{ mean: number; weight: number; count: number }> = [];
  for (let i = 0; i < values.length; i++) {
    let block = { mean: values[i]!, weight: weights?.[i] ?? 1, count: 1 };
    while (blocks.length > 0 && blocks[blocks.length - 1]!.mean > block.mean) {
      const prev = blocks.pop()!;
      const w = prev.weight + block.weight;
      block = { mean: (prev.mean * prev.weight + block.mean * block.weight) / w, weight: w, count: prev.count + block.count };
    }
    blocks.push(block);
  }
  const out: number[] = [];
  for (const b of blocks) for (let i = 0; i < b.count; i++) out.push(b.mean);
  return out;
}
