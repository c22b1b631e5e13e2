// Blocked, in-place Cholesky inverse of an SPD matrix, with every O(n³) part run as GEMMs through a
// MatMulEngine (LAPACK potrf → trtri → lauum, right-looking, lower triangle):
//   1. A = L·Lᵀ          diagonal blocks factored in JS; panels L21 = A21·L11⁻ᵀ and the symmetric
//                        trailing update A22 -= L21·L21ᵀ (lower column panels only) are GEMMs.
//   2. X = L⁻¹           diagonal blocks inverted in JS; X21 = -X22·L21·X11 as block-row GEMMs.
//   3. A⁻¹ = Xᵀ·X        one GEMM per block row (only the lower block triangle), in place.
// Each phase costs ~n³/3 flops, so the whole inverse is ~n³ flops (29 GFLOP at n = 3072).
//
// While factoring, only the lower triangle and the diagonal are written: the strict upper triangle
// still holds the input, so a failed factorisation can be restarted with more damping without a
// second n×n copy (see ./prepare.ts).

import type { MatMulEngine } from './engine-types.js';
import { choleskySmall, invertLowerSmall } from './internal/dense.js';
import { subtractLowerPanel, writeNegatedBlock } from './internal/kernels.js';

const EPSILON = 2 ** -52;

/** Default block size: 256 keeps the JS-side small kernels cheap (~n·nb² flops) and the GEMMs large. */
export const DEFAULT_BLOCK_SIZE = 256;

/** Copies the sub-block a[r0:r1, c0:c1] (row stride n) into a new contiguous array. */
function packBlock(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let r = r0; r < r1; r++) out.set(a.subarray(r * n + c0, r * n + c1), (r - r0) * w);
  return out;
}

/**
 * Packs the lower-triangular part of a[r0:r1, c0:c1]: entries above the global diagonal (c > r) are
 * zero, because in place they still hold the (upper-triangle) input, not factor entries.
 */
function packLowerBlock(a: Float64Array, n: number, r0: number, r1: number, c0: number, c1: number): Float64Array {
  const w = c1 - c0;
  const out = new Float64Array((r1 - r0) * w);
  for (let r = r0; r < r1; r++) {
    const end = Math.min(c1, r + 1);
    if (end > c0) out.set(a.subarray(r * n + c0, r * n + end), (r - r0) * w);
  }
  return out;
}

/** Outcome of {@link choleskyInPlace}: -1, or the first column whose pivot was not positive. */
export interface CholeskyResult {
  failedColumn: number;
}

/**
 * Blocked right-looking Cholesky in place: on success the lower triangle (with diagonal) of `a` holds L;
 * the strict upper triangle is untouched. A pivot counts as failed when it is not above
 * `n·ε·originalDiag[j]` (not positive definite to working precision).
 */
export async function choleskyInPlace(
  a: Float64Array,
  n: number,
  engine: MatMulEngine,
  blockSize = DEFAULT_BLOCK_SIZE,
): Promise<CholeskyResult> {
  const originalDiag = new Float64Array(n);
  for (let i = 0; i < n; i++) originalDiag[i] = a[i * n + i]!;
  const tol = n * EPSILON;
  for (let k0 = 0; k0 < n; k0 += blockSize) {
    const k1 = Math.min(k0 + blockSize, n);
    const w = k1 - k0;
    // 1. Factor the (already trailing-updated) diagonal block in JS.
    const diag = packLowerBlock(a, n, k0, k1, k0, k1);
    const failed = choleskySmall(diag, w, originalDiag.subarray(k0, k1), tol);
    if (failed >= 0) return { failedColumn: k0 + failed };
    for (let r = 0; r < w; r++) a.set(diag.subarray(r * w, r * w + r + 1), (k0 + r) * n + k0);
    if (k1 === n) break;
    const m = n - k1;
    // 2. Panel: L21 = A21·L11⁻ᵀ. Multiplying by the explicit inverse turns the triangular solve into a
    //    GEMM; its extra error is ~cond(L11)·ε = √cond(H11)·ε, negligible for damped Hessians.
    const l11Inv = invertLowerSmall(diag, w);
    const a21 = packBlock(a, n, k1, n, k0, k1);
    const l21 = await engine.matmulF64(a21, l11Inv, m, w, w, { transB: true });
    for (let r = 0; r < m; r++) a.set(l21.subarray(r * w, (r + 1) * w), (k1 + r) * n + k0);
    // 3. Trailing update of the lower triangle only: column panel [q0, q1) of A22 needs rows q0..n-1,
    //    A[q0:n, q0:q1] -= L21[q0:n]·L21[q0:q1]ᵀ. Halves the flops of a full A22 -= L21·L21ᵀ.
    for (let q0 = k1; q0 < n; q0 += blockSize) {
      const q1 = Math.min(q0 + blockSize, n);
      const wq = q1 - q0;
      const rows = n - q0;
      const left = l21.subarray((q0 - k1) * w);
      const right = l21.subarray((q0 - k1) * w, (q1 - k1) * w);
      const t = await engine.matmulF64(left, right, rows, w, wq, { transB: true });
      // Inside the diagonal block stop at the diagonal: the upper part must keep the input.
      subtractLowerPanel(a, n, q0, q0, t, rows, wq);
    }
  }
  return { failedColumn: -1 };
}

/** In place: replaces the lower triangle L of `a` by L⁻¹ (blocked, right to left by block column). */
export async function invertLowerInPlace(a: Float64Array, n: number, engine: MatMulEngine, blockSize = DEFAULT_BLOCK_SIZE): Promise<void> {
  const starts: number[] = [];
  for (let s = 0; s < n; s += blockSize) starts.push(s);
  for (let jb = starts.length - 1; jb >= 0; jb--) {
    const j0 = starts[jb]!;
    const j1 = Math.min(j0 + blockSize, n);
    const w = j1 - j0;
    const ljj = packLowerBlock(a, n, j0, j1, j0, j1);
    const xjj = invertLowerSmall(ljj, w);
    if (j1 < n) {
      // X[j1:, j] = -X[j1:, j1:]·L[j1:, j]·X_jj, where X[j1:, j1:] is the already inverted (lower)
      // trailing part. Block row i only needs X[i, j1:i1], so each block row is one GEMM over its
      // lower-triangular extent instead of a full square product.
      const m = n - j1;
      const lcol = packBlock(a, n, j1, n, j0, j1);
      const t = new Float64Array(m * w);
      for (let i0 = j1; i0 < n; i0 += blockSize) {
        const i1 = Math.min(i0 + blockSize, n);
        const xRow = packLowerBlock(a, n, i0, i1, j1, i1);
        const prod = await engine.matmulF64(xRow, lcol.subarray(0, (i1 - j1) * w), i1 - i0, i1 - j1, w);
        t.set(prod, (i0 - j1) * w);
      }
      const x21 = await engine.matmulF64(t, xjj, m, w, w);
      writeNegatedBlock(a, n, j1, j0, x21, m, w);
    }
    for (let r = 0; r < w; r++) a.set(xjj.subarray(r * w, r * w + r + 1), (j0 + r) * n + j0);
  }
}

/**
 * In place: replaces the lower triangle X of `a` by XᵀX (lower triangle), then mirrors it so `a` holds
 * the full symmetric product. Block row I of the result is Σ_{K≥I} X[K,I]ᵀ·X[K,0:I] = X[i0:,I]ᵀ·X[i0:,0:i1]:
 * one GEMM that reads only rows ≥ i0, which are not yet overwritten when rows are done top to bottom.
 */
export async function lowerGramInPlace(a: Float64Array, n: number, engine: MatMulEngine, blockSize = DEFAULT_BLOCK_SIZE): Promise<void> {
  for (let i0 = 0; i0 < n; i0 += blockSize) {
    const i1 = Math.min(i0 + blockSize, n);
    const w = i1 - i0;
    const rows = n - i0;
    const left = packLowerBlock(a, n, i0, n, i0, i1);
    const right = packLowerBlock(a, n, i0, n, 0, i1);
    const c = await engine.matmulF64(left, right, w, rows, i1, { transA: true });
    for (let r = 0; r < w; r++) a.set(c.subarray(r * i1, r * i1 + i0 + r + 1), (i0 + r) * n);
  }
  mirrorLowerToUpper(a, n);
}

/** a[c][r] = a[r][c] for c > r, tiled so both the reads and the strided writes stay in cache. */
export function mirrorLowerToUpper(a: Float64Array, n: number): void {
  const T = 64;
  for (let r0 = 0; r0 < n; r0 += T) {
    const r1 = Math.min(r0 + T, n);
    for (let c0 = 0; c0 <= r0; c0 += T) {
      const c1 = Math.min(c0 + T, n);
      for (let r = r0; r < r1; r++) {
        const rowR = r * n;
        const cEnd = Math.min(c1, r);
        for (let c = c0; c < cEnd; c++) a[c * n + r] = a[rowR + c]!;
      }
    }
  }
}

/** a[r][c] = a[c][r] for c < r: restores the lower triangle from the (untouched) upper triangle. */
export function mirrorUpperToLower(a: Float64Array, n: number): void {
  const T = 64;
  for (let r0 = 0; r0 < n; r0 += T) {
    const r1 = Math.min(r0 + T, n);
    for (let c0 = 0; c0 <= r0; c0 += T) {
      const c1 = Math.min(c0 + T, n);
      for (let r = r0; r < r1; r++) {
        const rowR = r * n;
        const cEnd = Math.min(c1, r);
        for (let c = c0; c < cEnd; c++) a[rowR + c] = a[c * n + r]!;
      }
    }
  }
}

/**
 * Inverse of the SPD matrix `a` (n×n, symmetric, row-major), computed in place. Returns false (with
 * the lower triangle clobbered and the strict upper triangle intact) when `a` is not positive definite
 * to working precision; see {@link choleskyInPlace}.
 */
export async function choleskyInverseInPlace(
  a: Float64Array,
  n: number,
  engine: MatMulEngine,
  blockSize = DEFAULT_BLOCK_SIZE,
): Promise<CholeskyResult> {
  const result = await choleskyInPlace(a, n, engine, blockSize);
  if (result.failedColumn >= 0) return result;
  await invertLowerInPlace(a, n, engine, blockSize);
  await lowerGramInPlace(a, n, engine, blockSize);
  return result;
}
