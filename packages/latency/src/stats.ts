// Robust statistics for timings. On a shared machine timing samples have a heavy right tail (another
// process takes a core for a while), so the centre is the median and the spread is the median
// absolute deviation, both insensitive to a minority of slow samples.

// The generic statistics (median, MAD) have one owner, @ziplm/core; this module adds what is specific
// to timings.
import { median, medianAbsoluteDeviation } from '@ziplm/core';
import { MeasurementError } from './errors.js';

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
 * A distribution-free confidence interval for the median of `values` (default 95%): the order
 * statistics x₍ₖ₎ and x₍ₙ₊₁₋ₖ₎ of the sorted sample, with the largest k such that
 * P(B ≤ k − 1) ≤ (1 − confidence) / 2 for B ~ Binomial(n, ½), the count of samples below the true
 * median. For independent samples of any continuous distribution it covers the median with at least
 * the asked probability, whatever the shape of the distribution.
 *
 * Why order statistics rather than a bootstrap: per-round speedup ratios on a busy machine have a
 * heavy, lopsided tail, which this interval needs no assumption about; it is exact and
 * deterministic (no resampling seed), and it belongs to the same estimator as the point estimate
 * (the sample median). A bootstrap of a median is lumpy at the round counts a verification runs
 * (20–100): its resampled medians fall on a handful of order statistics, so its coverage is
 * erratic, and it needs a seed to be reproducible.
 *
 * Below 6 samples no pair of order statistics reaches 95%: the interval is then [min, max], whose
 * coverage is 1 − 2^(1−n) (75% for 3 samples), narrower than asked.
 */
export function medianInterval(values: ArrayLike<number>, confidence = 0.95): readonly [low: number, high: number] {
  const n = values.length;
  if (n === 0) throw new MeasurementError('the interval of a median needs at least one sample');
  if (!(confidence > 0 && confidence < 1)) throw new MeasurementError(`confidence must be in (0, 1), got ${confidence}`);
  const sorted = Float64Array.from(values).sort();
  const tail = (1 - confidence) / 2;
  // Dropping d samples at each end gives [x₍d₊₁₎, x₍ₙ₋d₎], which misses the median with probability
  // 2·P(B ≤ d): keep the largest d with P(B ≤ d) ≤ tail. The binomial terms are summed from the far
  // tail in log space (½ⁿ underflows for n > 1074; the terms near the cut-off, n/2 − √n, do not).
  // When not even d = 0 qualifies (n < 6 at 95%), d stays 0: [min, max].
  let drop = 0;
  let logChoose = 0; // log C(n, j)
  let cdf = 0; // P(B ≤ j)
  for (let j = 0; 2 * j < n - 1; j++) {
    cdf += Math.exp(logChoose - n * Math.LN2);
    if (cdf > tail) break;
    drop = j;
    logChoose += Math.log((n - j) / (j + 1));
  }
  return [sorted[drop]!, sorted[n - 1 - drop]!];
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
