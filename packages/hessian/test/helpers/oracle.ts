// Test-side references, written independently of src/: a textbook Gaussian elimination with partial
// pivoting, the closed-form OBS optimum and the quadratic loss.

/** Solves A·X = B (A n×n, B n×m, row-major) by Gaussian elimination with partial pivoting. */
export function solve(a: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const A = a.slice();
  const X = b.slice();
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(A[r * n + col]!) > Math.abs(A[pivot * n + col]!)) pivot = r;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [A[col * n + c], A[pivot * n + c]] = [A[pivot * n + c]!, A[col * n + c]!];
      for (let c = 0; c < m; c++) [X[col * m + c], X[pivot * m + c]] = [X[pivot * m + c]!, X[col * m + c]!];
    }
    const d = A[col * n + col]!;
    for (let r = col + 1; r < n; r++) {
      const f = A[r * n + col]! / d;
      if (f === 0) continue;
      for (let c = col; c < n; c++) A[r * n + c] -= f * A[col * n + c]!;
      for (let c = 0; c < m; c++) X[r * m + c] -= f * X[col * m + c]!;
    }
  }
  for (let col = n - 1; col >= 0; col--) {
    const d = A[col * n + col]!;
    for (let c = 0; c < m; c++) X[col * m + c] /= d;
    for (let r = 0; r < col; r++) {
      const f = A[r * n + col]!;
      if (f === 0) continue;
      for (let c = 0; c < m; c++) X[r * m + c] -= f * X[col * m + c]!;
    }
  }
  return X;
}

/** Columns of the structures in `keptStructures` (ascending). */
export function keptColumns(keptStructures: ArrayLike<number>, groupSize: number): number[] {
  const cols: number[] = [];
  for (let i = 0; i < keptStructures.length; i++) for (let a = 0; a < groupSize; a++) cols.push(keptStructures[i]! * groupSize + a);
  return cols;
}

/** The closed-form oracle of guide/structured-obs.md: Ŵ[:, K] = W·H[:, K]·(H[K, K])⁻¹ (rows × |K|, compact). */
export function closedFormOptimum(w: Float64Array, rows: number, cols: number, h: Float64Array, kept: number[]): Float64Array {
  const k = kept.length;
  const hkk = new Float64Array(k * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) hkk[r * k + c] = h[kept[r]! * cols + kept[c]!]!;
  // (W·H[:,K])ᵀ = H[K,:]·Wᵀ  (k × rows); Ŵ_Kᵀ = H_KK⁻¹·H[K,:]·Wᵀ.
  const rhs = new Float64Array(k * rows);
  for (let r = 0; r < k; r++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += h[kept[r]! * cols + c]! * w[i * cols + c]!;
      rhs[r * rows + i] = s;
    }
  }
  const xt = solve(hkk, rhs, k, rows);
  const out = new Float64Array(rows * k);
  for (let r = 0; r < k; r++) for (let i = 0; i < rows; i++) out[i * k + r] = xt[r * rows + i]!;
  return out;
}

/** Expands compact kept-column weights to the full rows × cols layout (removed columns 0). */
export function expand(compact: ArrayLike<number>, rows: number, cols: number, kept: number[]): Float64Array {
  const k = kept.length;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let q = 0; q < k; q++) out[i * cols + kept[q]!] = compact[i * k + q]!;
  return out;
}

/** ½·tr(ΔW·H·ΔWᵀ). */
export function quadraticLoss(dw: Float64Array, rows: number, cols: number, h: Float64Array): number {
  let total = 0;
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < cols; r++) {
      const a = dw[i * cols + r]!;
      if (a === 0) continue;
      let s = 0;
      for (let c = 0; c < cols; c++) s += h[r * cols + c]! * dw[i * cols + c]!;
      total += a * s;
    }
  }
  return total / 2;
}

/** Relative squared output error on the data itself: Σ‖ΔW·x‖² / Σ‖W·x + b‖². */
export function dataError(
  w: Float64Array,
  what: Float64Array,
  bias: Float64Array | undefined,
  x: Float64Array,
  tokens: number,
  rows: number,
  cols: number,
): number {
  let num = 0;
  let den = 0;
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < rows; i++) {
      let y = bias ? bias[i]! : 0;
      let dy = 0;
      for (let c = 0; c < cols; c++) {
        const xc = x[t * cols + c]!;
        y += w[i * cols + c]! * xc;
        dy += (w[i * cols + c]! - what[i * cols + c]!) * xc;
      }
      num += dy * dy;
      den += y * y;
    }
  }
  return num / den;
}

export function relativeMaxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

export function relDiff(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

/** H = 2XᵀX/n for tokens × d inputs (row-major). */
export function hessianOf(x: Float64Array, tokens: number, d: number): Float64Array {
  const h = new Float64Array(d * d);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) h[i * d + j] += (2 * x[t * d + i]! * x[t * d + j]!) / tokens;
  return h;
}

/**
 * Sequential OBS over the columns, the textbook way (the oracle of GPTQ and SparseGPT): H damped by
 * `damp` · mean(diag H) and inverted by Gauss–Jordan; column i's weights are fixed to `fix(r, i, current)`
 * (to 0 where `mask` is 0: a pruned weight is "quantized" to 0), the error is moved onto the later columns
 * with row i of H⁻¹, and i is removed from H⁻¹ by a rank-one downdate. Returns the weights after all columns
 * are fixed.
 */
export function sequentialObs(
  w: Float32Array,
  rows: number,
  n: number,
  h: Float64Array,
  damp: number,
  fix: (r: number, i: number, current: number) => number,
  mask?: Uint8Array,
): Float64Array {
  let mean = 0;
  for (let i = 0; i < n; i++) mean += h[i * n + i]!;
  mean /= n;
  const a = Float64Array.from(h);
  for (let i = 0; i < n; i++) a[i * n + i] += damp * mean;
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    const p = a[c * n + c]!;
    for (let j = 0; j < n; j++) {
      a[c * n + j] /= p;
      inv[c * n + j] /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c]!;
      for (let j = 0; j < n; j++) {
        a[r * n + j] -= f * a[c * n + j]!;
        inv[r * n + j] -= f * inv[c * n + j]!;
      }
    }
  }
  const cur = Float64Array.from(w);
  for (let i = 0; i < n; i++) {
    const d = inv[i * n + i]!;
    for (let r = 0; r < rows; r++) {
      const fixed = mask !== undefined && mask[r * n + i] === 0 ? 0 : fix(r, i, cur[r * n + i]!);
      const e = (cur[r * n + i]! - fixed) / d;
      cur[r * n + i] = fixed;
      for (let j = i + 1; j < n; j++) cur[r * n + j] -= e * inv[i * n + j]!;
    }
    const row = Array.from({ length: n }, (_, j) => inv[i * n + j]!);
    for (let r = 0; r < n; r++) for (let j = 0; j < n; j++) inv[r * n + j] -= (row[r]! * row[j]!) / d;
  }
  return cur;
}

/** Every way of choosing `k` of `0..n−1` (ascending), for brute-force oracles over masks. */
export function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (k > n) return [];
  const out: number[][] = [];
  for (const rest of subsets(n - 1, k - 1)) out.push([...rest, n - 1]);
  return [...subsets(n - 1, k), ...out];
}
