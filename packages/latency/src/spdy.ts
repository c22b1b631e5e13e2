// SPDY-style refinement (guide/search.md). The layer-wise errors (guide/structured-obs.md) are only a proxy for the
// model's loss; SPDY corrects them globally by searching per-module coefficients c: every candidate
// c yields a DP solution of min Σ c_m·err_m s.t. the time budget, which is scored by an injected
// function (the reference stitches the levels into the dense model and measures the calibration
// task loss). Random initial coefficients, then a local search that resamples each coefficient with
// a small probability and keeps improvements (ZIPLM-REF `StructuredSPDY.search`).

import { seededRandom } from '@ziplm/core';
import type { LayerErrors } from '@ziplm/hessian';
import { SearchError } from './errors.js';
import type { SearchOptions, SearchResult } from './search.js';
import { searchForSpeedup } from './search.js';
import type { LatencyTable } from './table.js';

export interface SpdyOptions extends Omit<SearchOptions, 'coefficients'> {
  /**
   * Scores a DP solution; LOWER is better (e.g. the calibration loss of the dense model with the
   * chosen levels stitched in). Called once per distinct solution: results are cached by the
   * chosen kept sizes, since different coefficients often give the same solution.
   */
  score: (solution: SearchResult) => Promise<number>;
  /** Seed of the coefficient sampler; the whole search is deterministic given it and `score`. Default 0. */
  seed?: number;
  /** Random initial coefficient vectors (reference: 10). */
  randomInits?: number;
  /** Local-search steps (reference: 10). */
  steps?: number;
  /** Probability that a coefficient is resampled in a step (reference: 0.1). */
  mutationProbability?: number;
  /**
   * The search the coefficients steer (default `searchForSpeedup`, the per-module DP); e.g.
   * `searchUniform` refines a uniform baseline with the same procedure.
   */
  solve?: (table: LatencyTable, errors: readonly LayerErrors[], options: SearchOptions) => SearchResult;
  /** Called after every scored candidate. */
  onProgress?: (event: { phase: 'init' | 'step'; index: number; score: number; best: number }) => void;
}

export interface SpdyResult {
  /** The best solution found (its coefficients below). */
  readonly best: SearchResult;
  readonly coefficients: number[];
  readonly score: number;
  /** Distinct solutions scored. */
  readonly evaluations: number;
  /** Score of the plain DP (all coefficients 1), the starting point. */
  readonly plainScore: number;
}

/**
 * Runs the SPDY search. The plain DP (all coefficients 1) is scored first and always competes, so
 * the result is never worse than plain DP under `score`. In a local step at least one coefficient
 * is resampled (with probability p each, p·M of M modules on average), so no step re-scores the
 * unchanged incumbent.
 */
export async function spdySearch(table: LatencyTable, errors: readonly LayerErrors[], options: SpdyOptions): Promise<SpdyResult> {
  const {
    score,
    seed = 0,
    randomInits = 10,
    steps = 10,
    mutationProbability = 0.1,
    onProgress,
    solve = searchForSpeedup,
    ...searchOptions
  } = options;
  if (!Number.isInteger(randomInits) || randomInits < 0) throw new SearchError(`randomInits must be an integer >= 0, got ${randomInits}`);
  if (!Number.isInteger(steps) || steps < 0) throw new SearchError(`steps must be an integer >= 0, got ${steps}`);
  if (!(mutationProbability >= 0 && mutationProbability <= 1))
    throw new SearchError(`mutationProbability must be in [0, 1], got ${mutationProbability}`);
  const random = seededRandom(seed);
  const M = errors.length;
  const cache = new Map<string, number>();

  const evaluate = async (coefficients: number[]) => {
    const solution = solve(table, errors, { ...searchOptions, coefficients });
    const key = `${solution.layerHeads.join(',')}|${solution.layerIntermediate.join(',')}`;
    let s = cache.get(key);
    if (s === undefined) {
      s = await score(solution);
      if (typeof s !== 'number' || Number.isNaN(s)) throw new SearchError(`score returned ${s} (must be a number; lower is better)`);
      cache.set(key, s);
    }
    return { solution, score: s };
  };

  let coefficients = new Array<number>(M).fill(1);
  let incumbent = await evaluate(coefficients);
  const plainScore = incumbent.score;
  for (let i = 0; i < randomInits; i++) {
    const c = Array.from({ length: M }, () => random());
    const candidate = await evaluate(c);
    if (candidate.score < incumbent.score) {
      incumbent = candidate;
      coefficients = c;
    }
    onProgress?.({ phase: 'init', index: i, score: candidate.score, best: incumbent.score });
  }
  for (let i = 0; i < steps && M > 0; i++) {
    const c = [...coefficients];
    let mutated = 0;
    for (let m = 0; m < M; m++) {
      if (random() < mutationProbability) {
        c[m] = random();
        mutated++;
      }
    }
    if (mutated === 0) {
      const m = Math.min(M - 1, Math.floor(random() * M));
      c[m] = random();
    }
    const candidate = await evaluate(c);
    if (candidate.score < incumbent.score) {
      incumbent = candidate;
      coefficients = c;
    }
    onProgress?.({ phase: 'step', index: i, score: candidate.score, best: incumbent.score });
  }
  return { best: incumbent.solution, coefficients, score: incumbent.score, evaluations: cache.size, plainScore };
}
