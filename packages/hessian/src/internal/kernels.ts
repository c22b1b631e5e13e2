// Small synchronous loops used by the async drivers (sweep, Cholesky, accumulation). Hot loops live in
// short functions of their own: V8 optimises those reliably (and keeps them monomorphic), while a long
// loop written inline in a large async function can stay in the baseline tiers.

/** dst[r·dStride + c] = src[r·sStride + c] − t[r·tStride + c] for r < rows, c < cols (in place allowed when dst = src). */
export function subtractRows(
  dst: Float64Array,
  dOffset: number,
  dStride: number,
  src: Float64Array,
  sOffset: number,
  sStride: number,
  t: Float64Array,
  tOffset: number,
  tStride: number,
  rows: number,
  cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const d = dOffset + r * dStride;
    const s = sOffset + r * sStride;
    const q = tOffset + r * tStride;
    for (let c = 0; c < cols; c++) dst[d + c] = src[s + c]! - t[q + c]!;
  }
}

/** a[(row0 + r)·n + col0 + c] −= t[r·wq + c] for the lower-triangle part c ≤ row0 + r − col0. */
export function subtractLowerPanel(
  a: Float64Array,
  n: number,
  row0: number,
  col0: number,
  t: Float64Array,
  rows: number,
  wq: number,
): void {
  for (let r = 0; r < rows; r++) {
    const row = row0 + r;
    const end = Math.min(wq, row - col0 + 1);
    const dst = row * n + col0;
    const src = r * wq;
    for (let c = 0; c < end; c++) a[dst + c] -= t[src + c]!;
  }
}

/** a[(row0 + r)·n + col0 + c] = −x[r·w + c]. */
export function writeNegatedBlock(a: Float64Array, n: number, row0: number, col0: number, x: Float64Array, rows: number, w: number): void {
  for (let r = 0; r < rows; r++) {
    const dst = (row0 + r) * n + col0;
    const src = r * w;
    for (let c = 0; c < w; c++) a[dst + c] = -x[src + c]!;
  }
}

/** Σ x². */
export function sumOfSquares(x: Float64Array, start = 0, end = x.length): number {
  let s0 = 0;
  let s1 = 0;
  let i = start;
  for (; i + 1 < end; i += 2) {
    s0 += x[i]! * x[i]!;
    s1 += x[i + 1]! * x[i + 1]!;
  }
  if (i < end) s0 += x[i]! * x[i]!;
  return s0 + s1;
}

/** Σ x·y over [0, length). */
export function dot(x: Float64Array, y: Float64Array, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 1 < length; i += 2) {
    s0 += x[i]! * y[i]!;
    s1 += x[i + 1]! * y[i + 1]!;
  }
  if (i < length) s0 += x[i]! * y[i]!;
  return s0 + s1;
}

/**
 * out (cols × rows) = transpose of w (rows × cols), in 32×32 tiles that keep both the reads and the strided
 * writes in cache. The package's one transpose (the workspace's shared one is @ziplm/core's `transpose`; this
 * package keeps a private copy to stay dependency-free). A float32 input may be widened into a float64 `out`.
 */
export function transposeTiled<T extends Float32Array | Float64Array>(
  w: Float32Array | Float64Array,
  rows: number,
  cols: number,
  out: T,
): T {
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(r0 + T, rows);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(c0 + T, cols);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) out[c * rows + r] = w[r * cols + c]!;
    }
  }
  return out;
}

/** Index of the first non-finite value, or -1. */
export function firstNonFinite(x: Float32Array | Float64Array): number {
  return x instanceof Float32Array ? firstNonFiniteF32(x) : firstNonFiniteF64(x);
}

function firstNonFiniteF32(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}

function firstNonFiniteF64(x: Float64Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i;
  return -1;
}
