// Small dense kernels on contiguous row-major blocks (w×w, w ≤ a few hundred): the unblocked pieces of
// the blocked algorithms in ./cholesky.ts and the s×s group blocks of the structured sweep. All float64.

const EPSILON = 2 ** -52;

/**
 * In-place Cholesky of a w×w SPD block (lower triangle; the strict upper triangle is left as is).
 * Returns -1 on success, or the index of the first pivot that is not positive to working precision:
 * pivot ≤ tol·diag, with `diag` the matrix's own diagonal before factorisation (so badly scaled but
 * well-conditioned matrices pass) and `tol` = w·ε by default.
 */
export function choleskySmall(a: Float64Array, w: number, originalDiag?: Float64Array, tol = w * EPSILON): number {
  for (let j = 0; j < w; j++) {
    const rowJ = j * w;
    let s = a[rowJ + j]!;
    for (let k = 0; k < j; k++) s -= a[rowJ + k]! * a[rowJ + k]!;
    const reference = originalDiag ? originalDiag[j]! : a[rowJ + j]!;
    // `!(s > …)` also catches NaN.
    if (!(s > tol * Math.abs(reference)) || !(s > 0)) return j;
    const pivot = Math.sqrt(s);
    a[rowJ + j] = pivot;
    const inv = 1 / pivot;
    for (let i = j + 1; i < w; i++) {
      const rowI = i * w;
      // Four partial sums break the add-latency chain of a single accumulator (~3x faster in V8).
      let t0 = 0;
      let t1 = 0;
      let t2 = 0;
      let t3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        t0 += a[rowI + k]! * a[rowJ + k]!;
        t1 += a[rowI + k + 1]! * a[rowJ + k + 1]!;
        t2 += a[rowI + k + 2]! * a[rowJ + k + 2]!;
        t3 += a[rowI + k + 3]! * a[rowJ + k + 3]!;
      }
      for (; k < j; k++) t0 += a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = (a[rowI + j]! - (t0 + t1 + t2 + t3)) * inv;
    }
  }
  return -1;
}

/** Inverse of a w×w lower-triangular block (only its lower triangle is read); returns a new lower block. */
export function invertLowerSmall(l: Float64Array, w: number): Float64Array {
  const x = new Float64Array(w * w);
  for (let i = 0; i < w; i++) {
    const rowI = i * w;
    const inv = 1 / l[rowI + i]!;
    x[rowI + i] = inv;
    // Row i of L·X = e_i: X[i][j] = -(Σ_{k=j}^{i-1} L[i][k]·X[k][j]) / L[i][i], accumulated row-wise
    // (four rows of X per pass) so the inner loop walks rows of X contiguously.
    let k = 0;
    for (; k + 3 < i; k += 4) {
      const l0 = l[rowI + k]!;
      const l1 = l[rowI + k + 1]!;
      const l2 = l[rowI + k + 2]!;
      const l3 = l[rowI + k + 3]!;
      const r0 = k * w;
      const r1 = r0 + w;
      const r2 = r1 + w;
      const r3 = r2 + w;
      // X is lower triangular: row k + q has entries up to column k + q.
      for (let j = 0; j <= k; j++) x[rowI + j] -= l0 * x[r0 + j]! + l1 * x[r1 + j]! + l2 * x[r2 + j]! + l3 * x[r3 + j]!;
      x[rowI + k + 1] -= l1 * x[r1 + k + 1]! + l2 * x[r2 + k + 1]! + l3 * x[r3 + k + 1]!;
      x[rowI + k + 2] -= l2 * x[r2 + k + 2]! + l3 * x[r3 + k + 2]!;
      x[rowI + k + 3] -= l3 * x[r3 + k + 3]!;
    }
    for (; k < i; k++) {
      const lik = l[rowI + k]!;
      if (lik === 0) continue;
      const rowK = k * w;
      for (let j = 0; j <= k; j++) x[rowI + j] -= lik * x[rowK + j]!;
    }
    for (let j = 0; j < i; j++) x[rowI + j] *= inv;
  }
  return x;
}

/** Eigen-decomposition of a small symmetric block: `vectors[i·w + e]` is component i of eigenvector e. */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Cyclic Jacobi eigen-decomposition of a small symmetric block (its symmetric part is used). Slow
 * (O(w³) per sweep) but simple and accurate; only the rare pseudo-inverse fallback uses it.
 */
export function eigSymmetricSmall(a: Float64Array, w: number): SymmetricEigen {
  const m = Float64Array.from(a.subarray(0, w * w));
  for (let i = 0; i < w; i++) {
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (m[i * w + j]! + m[j * w + i]!);
      m[i * w + j] = v;
      m[j * w + i] = v;
    }
  }
  const v = new Float64Array(w * w);
  for (let i = 0; i < w; i++) v[i * w + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < w; i++) {
      for (let j = 0; j < w; j++) {
        const x = m[i * w + j]! * m[i * w + j]!;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= EPSILON * EPSILON * total) break;
    for (let p = 0; p < w - 1; p++) {
      for (let q = p + 1; q < w; q++) {
        const apq = m[p * w + q]!;
        if (apq === 0) continue;
        // Rotation J(p, q, θ) that zeroes m[p][q]: M ← JᵀMJ, V ← VJ.
        const theta = (m[q * w + q]! - m[p * w + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < w; k++) {
          const mkp = m[k * w + p]!;
          const mkq = m[k * w + q]!;
          m[k * w + p] = c * mkp - s * mkq;
          m[k * w + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < w; k++) {
          const mpk = m[p * w + k]!;
          const mqk = m[q * w + k]!;
          m[p * w + k] = c * mpk - s * mqk;
          m[q * w + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < w; k++) {
          const vkp = v[k * w + p]!;
          const vkq = v[k * w + q]!;
          v[k * w + p] = c * vkp - s * vkq;
          v[k * w + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(w);
  for (let i = 0; i < w; i++) values[i] = m[i * w + i]!;
  return { values, vectors: v };
}

/**
 * Factor F (r×w) of the Moore–Penrose pseudo-inverse of a small PSD block, A⁺ = FᵀF, keeping the r
 * eigenvalues above w·ε·max|λ| (`F = diag(1/√λ)·Qᵀ`; negative eigenvalues of a numerically indefinite
 * block are dropped like zeros). The reference's fallback is `torch.linalg.pinv(block, hermitian=True)`.
 */
export function pinvFactorSmall(a: Float64Array, w: number): { factor: Float64Array; rank: number } {
  const { values, vectors } = eigSymmetricSmall(a, w);
  let maxAbs = 0;
  for (let i = 0; i < w; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
  const cutoff = w * EPSILON * maxAbs;
  const keep: number[] = [];
  for (let e = 0; e < w; e++) if (values[e]! > cutoff) keep.push(e);
  const factor = new Float64Array(keep.length * w);
  keep.forEach((e, r) => {
    const scale = 1 / Math.sqrt(values[e]!);
    for (let i = 0; i < w; i++) factor[r * w + i] = vectors[i * w + e]! * scale;
  });
  return { factor, rank: keep.length };
}

/** Moore–Penrose pseudo-inverse of a small symmetric PSD block (see {@link pinvFactorSmall}). */
export function pinvSymmetricSmall(a: Float64Array, w: number): Float64Array {
  const { factor, rank } = pinvFactorSmall(a, w);
  const out = new Float64Array(w * w);
  for (let r = 0; r < rank; r++) {
    for (let i = 0; i < w; i++) {
      const fi = factor[r * w + i]!;
      if (fi === 0) continue;
      for (let j = 0; j < w; j++) out[i * w + j] += fi * factor[r * w + j]!;
    }
  }
  return out;
}
