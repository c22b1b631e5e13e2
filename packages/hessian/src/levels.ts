// Level grids: which kept sizes the solver snapshots and the latency table measures. Both must use
// exactly the same grid, so it lives here and the latency code imports it.

import { LevelError } from './errors.js';

/**
 * What the search consumes from a level database: per prunable module, its relative output error at
 * each kept size.
 */
export interface LayerErrors {
  /** Transformer layer index. */
  layer: number;
  module: 'attention' | 'ffn';
  /** Kept structure counts (heads or neurons) with their errors; kept 0 = removed (error 1 by definition). */
  levels: Array<{ kept: number; error: number }>;
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new LevelError(`${what} must be a positive integer, got ${value}`);
  }
}

/**
 * Kept head counts of the attention grid: `[numHeads, numHeads-1, ..., 1, 0]` (guide/structured-obs.md: one level
 * per head count, plus the whole module removed). With `groupSize` g > 1 (grouped-query attention, where a
 * key/value head goes only with the g query heads that share it) one level per whole group:
 * `[numHeads, numHeads-g, ..., g, 0]`, still counted in query heads.
 */
export function attentionLevels(numHeads: number, groupSize = 1): number[] {
  checkSize(numHeads, 'attentionLevels: numHeads');
  checkSize(groupSize, 'attentionLevels: groupSize');
  if (numHeads % groupSize !== 0) throw new LevelError(`attentionLevels: groupSize ${groupSize} must divide numHeads ${numHeads}`);
  const levels: number[] = [];
  for (let kept = numHeads; kept >= 0; kept -= groupSize) levels.push(kept);
  return levels;
}

/**
 * Python 3 `round()`: round half to even. The reference grid was generated in Python, and a ZipLM
 * database must use the very same kept sizes as the latency table, so ties must round the same way.
 */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Kept neuron counts of the FFN grid, descending, deduplicated, ending with 0 (module removed).
 *
 * The reference (guide/structured-obs.md, ZIPLM-REF `gen_transformerdb`) builds sparsities from a geometric
 * density grid, `density = 1; while density > 1 - 0.99: s.push(1 - density); density *= 0.9`, and keeps
 * `round((1 - s) * intermediateSize)` neurons per level: 44 levels (3072 → 3072, 2765, …, 33). The
 * floating-point detour through `s = 1 - density` is reproduced on purpose, because it decides which
 * way near-ties round. Small FFNs collapse to fewer distinct sizes (e.g. 256 ends …, 4, 3), and sizes
 * that round to 0 are dropped before the final 0.
 */
export function ffnLevels(intermediateSize: number): number[] {
  checkSize(intermediateSize, 'ffnLevels: intermediateSize');
  const minSparsity = 0;
  const maxSparsity = 0.99;
  const deltaSparse = 0.1;
  const levels: number[] = [];
  let density = 1 - minSparsity;
  while (density > 1 - maxSparsity) {
    const sparsity = 1 - density;
    const kept = roundHalfEven((1 - sparsity) * intermediateSize);
    // The density is strictly decreasing, so kept sizes are non-increasing: dedupe against the last.
    if (kept > 0 && kept !== levels[levels.length - 1]) levels.push(kept);
    density *= 1 - deltaSparse;
  }
  levels.push(0);
  return levels;
}
