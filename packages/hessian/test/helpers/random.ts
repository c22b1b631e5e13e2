// Deterministic test fixtures: generators of correlated calibration data over the workspace's seeded
// generator (mulberry32, from @ziplm/test-utils), and naive oracles.

import { seededRandom } from '@ziplm/test-utils';

/** Standard normal samples (Box–Muller). */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = Math.max(random(), 1e-300);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
}

export function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Float64Array {
  const normal = gaussian(seededRandom(seed));
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = normal() * scale;
  return out;
}

/**
 * Correlated tokens (tokens × d): x = z·M + offset, with M a random mixing matrix, so H = 2XᵀX/n has a
 * non-trivial inverse and the inputs have a non-zero mean (which the error formula must account for).
 */
export function correlatedTokens(
  tokens: number,
  d: number,
  seed: number,
  offset = 0.3,
  mixing: 'dense' | 'banded' = 'dense',
): Float64Array {
  const z = randomMatrix(tokens, d, seed);
  if (mixing === 'banded') {
    // Cheap for wide layers: x_j = z_j + 0.6·z_{j−1} − 0.3·z_{j−7} + offset_j (O(tokens·d)).
    const x = new Float64Array(tokens * d);
    for (let t = 0; t < tokens; t++) {
      for (let j = 0; j < d; j++) {
        const r = t * d;
        x[r + j] = z[r + j]! + (j >= 1 ? 0.6 * z[r + j - 1]! : 0) - (j >= 7 ? 0.3 * z[r + j - 7]! : 0) + offset * ((j % 5) - 2);
      }
    }
    return x;
  }
  const mix = randomMatrix(d, d, seed + 1, 1 / Math.sqrt(d));
  for (let i = 0; i < d; i++) mix[i * d + i] += 1;
  const x = new Float64Array(tokens * d);
  for (let t = 0; t < tokens; t++) {
    for (let k = 0; k < d; k++) {
      const zv = z[t * d + k]!;
      for (let j = 0; j < d; j++) x[t * d + j] += zv * mix[k * d + j]!;
    }
    for (let j = 0; j < d; j++) x[t * d + j] += offset * ((j % 5) - 2);
  }
  return x;
}

/** H = (2/n)·XᵀX for tokens × d data, straightforward float64 (the test-side reference). */
export function hessianOf(x: Float64Array, tokens: number, d: number): Float64Array {
  const h = new Float64Array(d * d);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < d; i++) {
      const xi = x[t * d + i]!;
      if (xi === 0) continue;
      for (let j = 0; j < d; j++) h[i * d + j] += xi * x[t * d + j]!;
    }
  }
  for (let i = 0; i < h.length; i++) h[i] *= 2 / tokens;
  return h;
}

/** Naive C = A·B for reference checks. */
export function naiveMatmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      for (let j = 0; j < n; j++) c[i * n + j] += aip * b[p * n + j]!;
    }
  }
  return c;
}

export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j]!;
  return out;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
