// Random checkpoints for the benchmarks (a helper module: bench/index.ts skips files starting with "_").

import { seededRandom } from '@ziplm/core';
import type { ModelConfig } from '../src/config.js';
import type { Checkpoint, WeightMap } from '../src/weights.js';
import { expectedShapes } from '../src/weights.js';

/**
 * Random weights, fast: uniform draws scaled to ±0.03 (timings do not depend on the values; the
 * Box–Muller draw of randomCheckpoint takes ~10 s for 110M parameters on these machines).
 * LayerNorm scales are 1, as Hugging Face initialises them.
 */
export function fastRandomCheckpoint<C extends ModelConfig>(config: C, seed: number): Checkpoint<C> {
  const random = seededRandom(seed);
  const weights: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/(LayerNorm|ln_\d|ln_f)\.weight$/.test(name)) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = (random() - 0.5) * 0.06;
    weights.set(name, { shape, data });
  }
  return { config, weights };
}
