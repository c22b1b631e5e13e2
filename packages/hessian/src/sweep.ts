// The structured OBS sweep for one linear layer (guide/structured-obs.md).
//
// W is rows×cols row-major with columns = inputs (nn.Linear [out, in]); a structure is a group of
// `groupSize` consecutive columns (1 = an FFN neuron of FC2, head_dim = an attention head of the output
// projection). Greedily, one structure at a time, the structure M with the smallest
//     ρ_M = tr(W_{:,M}·B_M⁻¹·W_{:,M}ᵀ),  B_M = [H⁻¹]_{M,M}
// is removed and all remaining weights get the optimal OBS update
//     W ← W − W_{:,M}·B_M⁻¹·[H⁻¹]_{M,:},   H⁻¹ ← H⁻¹ − [H⁻¹]_{:,M}·B_M⁻¹·[H⁻¹]_{M,:}
// (loss increase ρ_M/2). Both updates are the same rank-s correction: with B_M = L·Lᵀ,
//     A = (W_{:,M}·L⁻ᵀ)ᵀ (s×rows),  R = L⁻¹·[H⁻¹]_{M,:} (s×k):  W ← W − Aᵀ·R,  H⁻¹ ← H⁻¹ − Rᵀ·R.
//
// Speed (see README, "How it is fast"):
//  - Compaction: after a removal the rows/columns of M are dropped from W and H⁻¹. The downdated
//    inverse restricted to the kept set K is exactly (H_KK)⁻¹, so nothing is lost, and every later
//    step costs O(k) instead of O(cols).
//  - Group size 1 is lazy: the pending corrections (a_t, r_t) of up to `lazyBlock` removals are kept
//    aside and applied together as GEMMs through the MatMulEngine (W: k×p·p×rows; H⁻¹: only its upper
//    block triangle). Between flushes the scores stay exact because their ingredients are maintained
//    incrementally:
//      diag(H⁻¹)_c  ← diag_c − r_c²
//      ‖W_c‖²       ← ‖W_c‖² − 2·r_c·u_c + r_c²·‖a‖²,   u = Wᵀa for the current W
//    and the one row of H⁻¹ and column of W a step needs are fetched as base minus the pending
//    low-rank part (O(p·k)). u comes either from a pass over W (`matvec`) or from G = WᵀW, kept
//    current the same lazy way (`gram`: G ← G − r·vᵀ − v·rᵀ with v = u − ½‖a‖²·r). Flushes recompute
//    diag and norms exactly from the new base, so rounding cannot drift for more than `lazyBlock` steps.
//  - W is held transposed (k × rows), so a column of W, a group's columns and a column norm are all
//    contiguous; snapshot weights are materialised (transposed back) only at the requested levels.
//
// Errors: the OBS loss of a snapshot is ½·tr(ΔW·H_p·ΔWᵀ) with the damped, prepared H_p the solver
// uses (see ./prepare.ts). The reported `error` is on the calibration data (undamped H), the method
// doc's relative squared output error E‖ΔW·x‖² / E‖W·x + b‖². Because each snapshot is the exact
// optimum for H_p, it follows from quantities the sweep already has, with no second data pass:
//      E‖ΔW·x‖²  = ½·tr(ΔW·H·ΔWᵀ)       = obsLoss − λ·‖ΔW‖²_F / 2          (H = H_p − λI on live inputs)
//      E‖W·x‖²   = ½·tr(W·H_p·Wᵀ) − λ‖W‖²/2,  ½·tr(W·H_p·Wᵀ) = L_f + ½·tr(Ŵ_f·H_p[K_f,K_f]·Ŵ_fᵀ)
//      E‖W·x+b‖² = E‖W·x‖² + 2·bᵀ·W·μ + ‖b‖²
// where (L_f, Ŵ_f, K_f) is the last state of the sweep: the cross term of W = ΔW + Ŵ vanishes because
// (W − Ŵ)·H_p[:,K] = 0 for the optimum (normal equations).

import { choleskyInverseInPlace, DEFAULT_BLOCK_SIZE, mirrorUpperToLower } from './cholesky.js';
import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { LevelError, NumericalError, ShapeError } from './errors.js';
import { invertHessian, type DampingReport, type PrepareOptions } from './prepare.js';
import { choleskySmall, invertLowerSmall, pinvFactorSmall } from './internal/dense.js';
import { dot, firstNonFinite, sumOfSquares, transposeTiled } from './internal/kernels.js';

/** One linear layer and its calibration statistics. */
export interface ObsProblem {
  /** rows × cols, row-major, columns = the inputs being pruned (nn.Linear weight [out, in]). */
  weight: Float32Array | Float64Array;
  rows: number;
  cols: number;
  /** cols × cols, H = (2/n)·Σ x·xᵀ as produced by {@link HessianAccumulator}. */
  hessian: Float64Array;
  /** Input mean over the calibration tokens (cols); needed for exact errors when a bias is given. */
  mean?: Float64Array;
  /** Output bias (rows). Kept unchanged at every level; only enters the error's denominator. */
  bias?: Float32Array | Float64Array;
}

/** Options of {@link obsSweep}. */
export interface SweepOptions extends PrepareOptions {
  /** Kept structure counts to snapshot, each in [0, cols/groupSize]; 0 = module removed. */
  levels: readonly number[];
  /** Columns per structure: 1 (FFN neurons) or head_dim (attention heads). Default 1. */
  groupSize?: number;
  /** Group size 1: removals whose updates are applied together in one flush (default 128). */
  lazyBlock?: number;
  /** Element type of the snapshot weights (default float64; float32 halves their memory). */
  snapshotPrecision?: 'float64' | 'float32';
  /**
   * Group size 1: how the score numerators ‖W_c‖² follow each removal. Both are exact. `matvec`
   * computes u = Wᵀa per removal (one memory-bound pass over W, rows·k flops); `gram` keeps G = WᵀW
   * whose row j is u·√d, moving that work into the flush GEMMs (2·k² flops per removal, plus rows·k²
   * once). G is only built once k ≤ 0.7·cols (so it never takes more than half the memory of H; the
   * removals before use `matvec`) and shrinks with the kept set. Default: `matvec` with the plain JS
   * engine (name `js`), where GEMMs are slow, `gram` with any other (accelerated) engine.
   */
  scoreUpdate?: 'matvec' | 'gram';
  /** Called after every removal with the number removed so far and the number the sweep will remove. */
  onProgress?: (removed: number, total: number) => void;
}

/** The layer at one level. */
export interface Snapshot {
  /** Kept structures. */
  kept: number;
  /** Kept structure indices, ascending (a structure's columns are index·groupSize … + groupSize − 1). */
  keptIndices: Int32Array;
  /** rows × (kept·groupSize), row-major: the OBS-updated weights of the kept columns only. */
  weight: Float32Array | Float64Array;
  /** ½·tr(ΔW·H_p·ΔWᵀ): the OBS objective with the damped, prepared H_p (sum of step losses ρ/2). */
  obsLoss: number;
  /** Relative squared output error on the calibration data, E‖ΔW·x‖² / E‖W·x + b‖² (undamped H). 1 at kept 0. */
  error: number;
}

/** Result of {@link obsSweep}. */
export interface SweepResult {
  rows: number;
  cols: number;
  groupSize: number;
  /** Snapshots, kept descending (one per distinct requested level). */
  snapshots: Snapshot[];
  /** Structures in the order they were removed (as far as the sweep ran). */
  order: Int32Array;
  /** Damping finally used to build H_p. */
  damping: DampingReport;
  /** Dead inputs (zero diagonal of H); their weights were zeroed. */
  dead: Int32Array;
  /** Diagonal given to dead inputs in H_p before damping (see {@link preparedHessian}). */
  deadValue: number;
  /** E‖W·x + b‖² on the calibration data: the denominator of every `error`. */
  outputEnergy: number;
  /** Group size > 1: steps whose s×s block of H⁻¹ needed the pseudo-inverse fallback. */
  pinvFallbacks: number;
}

/** Rows of a GEMM panel in the symmetric flushes (bounds the temporary to PANEL × k). */
const PANEL = 256;

/**
 * Runs of consecutive kept indices: [newStart, oldStart, length] triples, so gathers can copy
 * contiguous stretches instead of indexing through `keep` element by element (removed columns are few
 * per flush, so the runs are long).
 */
function keptRuns(keep: Int32Array, k2: number): Int32Array {
  const runs: number[] = [];
  let c = 0;
  while (c < k2) {
    const start = c;
    while (c + 1 < k2 && keep[c + 1] === keep[c]! + 1) c++;
    c++;
    runs.push(start, keep[start]!, c - start);
  }
  return Int32Array.from(runs);
}

/**
 * In place: mat[K, K] − left_K·right_Kᵀ (or + with sign = 1) for a symmetric k×k `mat` (row-major),
 * compacted to the k2 kept indices `keep` (ascending), where left/right are k2×q (row c = the kept
 * column c's q-vector) and left·rightᵀ is symmetric. Only the upper block triangle is computed, as
 * GEMM panels [i0, i1) × [i0, k2), and only the upper triangle (c ≥ r) is written; with `mirror` the
 * lower triangle is then filled from rows already written (exactly symmetric storage), without it the
 * lower triangle is left stale and readers must use the upper one.
 * In-place compaction is safe row by row in increasing order: in row r every write (column c, at
 * r·k2 + c) lands before every old entry still to be read (columns ≥ c of old row keep[r], at
 * keep[r]·k + keep[c] ≥ r·k2 + c).
 */
async function compactSymmetric(
  engine: MatMulEngine,
  mat: Float64Array,
  k: number,
  keep: Int32Array,
  k2: number,
  left: Float64Array,
  right: Float64Array,
  q: number,
  sign: 1 | -1,
  mirror: boolean,
): Promise<void> {
  const runs = keptRuns(keep, k2);
  let firstRun = 0;
  for (let i0 = 0; i0 < k2; i0 += PANEL) {
    const i1 = Math.min(i0 + PANEL, k2);
    const width = k2 - i0;
    const t =
      q > 0
        ? await engine.matmulF64(left.subarray(i0 * q, i1 * q), right.subarray(i0 * q, k2 * q), i1 - i0, q, width, { transB: true })
        : null;
    firstRun = applySymmetricPanel(mat, k, keep, k2, runs, firstRun, i0, i1, t, sign, mirror);
  }
}

/** The row loop of {@link compactSymmetric} for panel rows [i0, i1); returns the updated run cursor. */
function applySymmetricPanel(
  mat: Float64Array,
  k: number,
  keep: Int32Array,
  k2: number,
  runs: Int32Array,
  firstRun: number,
  i0: number,
  i1: number,
  t: Float64Array | null,
  sign: 1 | -1,
  mirror: boolean,
): number {
  const width = k2 - i0;
  for (let r = i0; r < i1; r++) {
    const dst = r * k2;
    if (mirror) for (let c = 0; c < r; c++) mat[dst + c] = mat[c * k2 + r]!;
    const srcRow = keep[r]! * k;
    const tRow = (r - i0) * width - i0;
    while (runs[firstRun]! + runs[firstRun + 2]! <= r) firstRun += 3;
    for (let run = firstRun; run < runs.length; run += 3) {
      const newStart = runs[run]!;
      const cEnd = newStart + runs[run + 2]!;
      const cStart = Math.max(newStart, r);
      const src = srcRow + runs[run + 1]! - newStart;
      if (t === null) mat.copyWithin(dst + cStart, src + cStart, src + cEnd);
      else if (sign < 0) for (let c = cStart; c < cEnd; c++) mat[dst + c] = mat[src + c]! - t[tRow + c]!;
      else for (let c = cStart; c < cEnd; c++) mat[dst + c] = mat[src + c]! + t[tRow + c]!;
    }
  }
  return firstRun;
}

/** Row j of a symmetric k×k matrix whose upper triangle is current (lower may be stale). */
function symmetricRow(mat: Float64Array, k: number, j: number, out: Float64Array): void {
  for (let c = 0; c < j; c++) out[c] = mat[c * k + j]!;
  out.set(mat.subarray(j * k + j, j * k + k), j);
}

/**
 * Compacted solver state: Wᵀ (k × rows) and H⁻¹ (k × k) over the kept columns, in place inside buffers
 * sized for all columns, plus up to `capacity` pending rank-1 corrections (a_t, r_t). In Gram mode it
 * also holds G = WᵀW (k × k) with its pending corrections v_t (see {@link SweepOptions.scoreUpdate}).
 */
class CompactState {
  k: number;
  /** Original column index of each local column. */
  keptCols: Int32Array;
  readonly removed: Uint8Array;
  /** Pending corrections: W ← W − Σ a_t·r_tᵀ, H⁻¹ ← H⁻¹ − Σ r_t·r_tᵀ (a_t: rows; r_t: k, stride k). */
  readonly pendA: Float64Array;
  readonly pendR: Float64Array;
  /** Gram mode: G ← G − Σ (r_t·v_tᵀ + v_t·r_tᵀ), v_t = u_t − ½‖a_t‖²·r_t (stride k). */
  readonly pendV: Float64Array;
  p = 0;
  /** Scratch reused by every flush (R_K, its transpose, and the [R V] / [V R] blocks of the G flush). */
  private readonly scratchA: Float64Array;
  private readonly scratchB: Float64Array;
  private readonly scratchC: Float64Array;

  constructor(
    readonly rows: number,
    cols: number,
    /** Wᵀ, cols × rows row-major (row c = column c of W). */
    readonly wt: Float64Array,
    public hinv: Float64Array,
    /** Gram mode: whether G = WᵀW is used once the kept set is small enough (see {@link startGram}). */
    private readonly gramMode: boolean,
    capacity: number,
    private readonly engine: MatMulEngine,
    /** Keep H⁻¹ fully symmetric (the group path reads whole rows and blocks) or only its upper triangle. */
    readonly fullStorage: boolean,
    /** Whether `hinv` is ours to reallocate (false when it is the caller's overwritten H). */
    private readonly ownsHinv: boolean,
  ) {
    this.k = cols;
    this.keptCols = new Int32Array(cols);
    for (let c = 0; c < cols; c++) this.keptCols[c] = c;
    this.removed = new Uint8Array(cols);
    this.pendA = new Float64Array(capacity * rows);
    this.pendR = new Float64Array(capacity * cols);
    this.pendV = new Float64Array(gramMode ? capacity * cols : 0);
    this.scratchA = new Float64Array(capacity * cols);
    this.scratchB = new Float64Array((gramMode ? 2 : 1) * capacity * cols);
    this.scratchC = new Float64Array(gramMode ? 2 * capacity * cols : 0);
  }

  /** G = WᵀW over the kept columns (upper triangle), once in Gram mode. */
  g: Float64Array | null = null;

  /**
   * Gram mode: allocates G (k × k) and fills it once k ≤ 0.7·cols, i.e. once G takes at most half the
   * memory of H; before that, u = Wᵀa comes from a pass over W. Call right after a flush.
   */
  async startGram(cols: number): Promise<void> {
    if (!this.gramMode || this.g !== null || this.k > 0.7 * cols) return;
    this.g = new Float64Array(this.k * this.k);
    await this.initGram();
  }

  /** G = WᵀW of the current W (Gram mode): symmetric GEMM panels of Wᵀ·(Wᵀ)ᵀ, upper triangle. */
  async initGram(): Promise<void> {
    const { rows, k, wt, g } = this;
    if (!g) return;
    g.fill(0, 0, k * k);
    const keep = new Int32Array(k);
    for (let c = 0; c < k; c++) keep[c] = c;
    await compactSymmetric(this.engine, g, k, keep, k, wt.subarray(0, k * rows), wt.subarray(0, k * rows), rows, 1, false);
  }

  /** Applies the pending corrections as GEMMs and drops the removed columns (in place). */
  async flush(): Promise<void> {
    const { rows, k, p, removed, wt, hinv, g, pendA, pendR, pendV } = this;
    const keep = new Int32Array(k);
    let k2 = 0;
    for (let c = 0; c < k; c++) if (!removed[c]) keep[k2++] = c;
    if (p === 0 && k2 === k) return;
    // R restricted to the kept columns, p × k2, and its transpose k2 × p.
    const rk = this.scratchA.subarray(0, p * k2);
    const rt = this.scratchB.subarray(0, k2 * p);
    gatherColumns(pendR, k, p, keep, k2, rk, rt);
    // Wᵀ[K, :] − R_Kᵀ·A (k2 × rows), in panels of rows of Wᵀ (bounds the GEMM result). Rows move
    // down in place (row c goes to c' ≤ c, in increasing order).
    for (let c0 = 0; c0 < k2; c0 += 4 * PANEL) {
      const c1 = Math.min(c0 + 4 * PANEL, k2);
      const tw = p > 0 ? await this.engine.matmulF64(rt.subarray(c0 * p, c1 * p), pendA.subarray(0, p * rows), c1 - c0, p, rows) : null;
      compactRows(wt, rows, keep, c0, c1, tw);
    }
    // H⁻¹[K, K] − R_Kᵀ·R_K.
    await compactSymmetric(this.engine, hinv, k, keep, k2, rt, rt, p, -1, this.fullStorage);
    if (g) {
      // G[K, K] − (R_Kᵀ·V_K + V_Kᵀ·R_K) = G − [R V]·[V R]ᵀ with k2 × 2p row blocks.
      const left = this.scratchB.subarray(0, k2 * 2 * p);
      const right = this.scratchC.subarray(0, k2 * 2 * p);
      interleaveRV(pendR, pendV, k, p, keep, k2, left, right);
      await compactSymmetric(this.engine, g, k, keep, k2, left, right, 2 * p, -1, false);
    }
    const kept = new Int32Array(k2);
    for (let c = 0; c < k2; c++) kept[c] = this.keptCols[keep[c]!]!;
    this.keptCols = kept;
    this.k = k2;
    this.p = 0;
    removed.fill(0, 0, k2);
    // Memory: once the compacted matrices use under half of their buffers, move them to right-sized
    // ones so the old n×n buffers can be freed (peak memory stays near H + H⁻¹ + G early on and drops
    // while the snapshots accumulate).
    if (g && 2 * k2 * k2 < g.length) this.g = g.slice(0, k2 * k2);
    if (this.ownsHinv && 2 * k2 * k2 < hinv.length) this.hinv = hinv.slice(0, k2 * k2);
  }

  /** Exact diag(H⁻¹) and column norms ‖W_c‖² of the current base (call right after a flush). */
  baseScores(diag: Float64Array, norm: Float64Array): void {
    const { rows, k, wt, hinv } = this;
    for (let c = 0; c < k; c++) {
      const d = hinv[c * k + c]!;
      if (!(d > 0))
        throw new NumericalError(
          `obsSweep: diagonal ${d} of the downdated H⁻¹ is not positive (column ${this.keptCols[c]}); H is too badly conditioned, raise relativeDamping`,
        );
      diag[c] = d;
      let s = 0;
      const row = c * rows;
      for (let i = 0; i < rows; i++) s += wt[row + i]! * wt[row + i]!;
      norm[c] = s;
    }
  }

  /** The current W[:, kept] as rows × k row-major (only valid right after a flush). */
  weight<T extends Float32Array | Float64Array>(out: T): T {
    const { rows, k, wt } = this;
    // Tiled transpose: both the reads and the strided writes stay in cache.
    const T = 32;
    for (let c0 = 0; c0 < k; c0 += T) {
      const c1 = Math.min(c0 + T, k);
      for (let i0 = 0; i0 < rows; i0 += T) {
        const i1 = Math.min(i0 + T, rows);
        for (let c = c0; c < c1; c++) for (let i = i0; i < i1; i++) out[i * k + c] = wt[c * rows + i]!;
      }
    }
    return out;
  }
}

/** rk (p × k2) = pendR[:, keep], rt (k2 × p) = its transpose. */
function gatherColumns(pendR: Float64Array, k: number, p: number, keep: Int32Array, k2: number, rk: Float64Array, rt: Float64Array): void {
  for (let t = 0; t < p; t++) {
    const src = t * k;
    const dst = t * k2;
    for (let c = 0; c < k2; c++) {
      const v = pendR[src + keep[c]!]!;
      rk[dst + c] = v;
      rt[c * p + t] = v;
    }
  }
}

/** wt[c] = wt[keep[c]] − tw[c − c0] for c in [c0, c1) (rows of length `rows`), increasing (in place). */
function compactRows(wt: Float64Array, rows: number, keep: Int32Array, c0: number, c1: number, tw: Float64Array | null): void {
  for (let c = c0; c < c1; c++) {
    const dst = c * rows;
    const src = keep[c]! * rows;
    const t = (c - c0) * rows;
    if (tw) for (let i = 0; i < rows; i++) wt[dst + i] = wt[src + i]! - tw[t + i]!;
    else wt.copyWithin(dst, src, src + rows);
  }
}

/** left row c = [r_1..r_p, v_1..v_p][keep[c]], right row c = [v.., r..] (the G flush factors). */
function interleaveRV(
  pendR: Float64Array,
  pendV: Float64Array,
  k: number,
  p: number,
  keep: Int32Array,
  k2: number,
  left: Float64Array,
  right: Float64Array,
): void {
  for (let c = 0; c < k2; c++) {
    const src = keep[c]!;
    const row = c * 2 * p;
    for (let t = 0; t < p; t++) {
      const r = pendR[t * k + src]!;
      const v = pendV[t * k + src]!;
      left[row + t] = r;
      left[row + p + t] = v;
      right[row + t] = v;
      right[row + p + t] = r;
    }
  }
}

/**
 * u = Wᵀ·a with Wᵀ stored k × rows: four dot products per pass over a (the product is memory-bound:
 * it streams W once per removal).
 */
function transposedMatVec(wt: Float64Array, rows: number, k: number, a: Float64Array, aOffset: number, u: Float64Array): void {
  let c = 0;
  for (; c + 3 < k; c += 4) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const b0 = c * rows;
    const b1 = b0 + rows;
    const b2 = b1 + rows;
    const b3 = b2 + rows;
    for (let i = 0; i < rows; i++) {
      const ai = a[aOffset + i]!;
      s0 += wt[b0 + i]! * ai;
      s1 += wt[b1 + i]! * ai;
      s2 += wt[b2 + i]! * ai;
      s3 += wt[b3 + i]! * ai;
    }
    u[c] = s0;
    u[c + 1] = s1;
    u[c + 2] = s2;
    u[c + 3] = s3;
  }
  for (; c < k; c++) {
    let s = 0;
    const b = c * rows;
    for (let i = 0; i < rows; i++) s += wt[b + i]! * a[aOffset + i]!;
    u[c] = s;
  }
}

/** H_p[K, K] from the caller's H: symmetrised, dead inputs at `deadValue`, plus λ on the diagonal. */
function gatherPreparedBlock(
  hessian: Float64Array,
  cols: number,
  keptCols: Int32Array,
  kf: number,
  dead: Int32Array,
  deadValue: number,
  lambda: number,
): Float64Array {
  const out = new Float64Array(kf * kf);
  const isDead = new Uint8Array(cols);
  for (const d of dead) isDead[d] = 1;
  for (let r = 0; r < kf; r++) {
    const cr = keptCols[r]!;
    for (let c = 0; c < kf; c++) {
      const cc = keptCols[c]!;
      out[r * kf + c] = 0.5 * (hessian[cr * cols + cc]! + hessian[cc * cols + cr]!);
    }
    if (isDead[cr]) out[r * kf + r] = deadValue;
    out[r * kf + r] += lambda;
  }
  return out;
}

/**
 * 2·bᵀ·W·μ + ‖b‖², with W·μ accumulated column by column of W (rows of Wᵀ): the bias part of
 * E‖W·x + b‖² (also used by ./magnitude.ts).
 */
export function biasEnergy(w0t: Float64Array, rows: number, cols: number, mean: Float64Array, bias: Float32Array | Float64Array): number {
  const wm = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    const mc = mean[c]!;
    if (mc === 0) continue;
    const row = c * rows;
    for (let i = 0; i < rows; i++) wm[i] += w0t[row + i]! * mc;
  }
  let energy = 0;
  for (let i = 0; i < rows; i++) {
    const b = bias[i]!;
    energy += 2 * b * wm[i]! + b * b;
  }
  return energy;
}

/** Validated and normalised levels: distinct kept counts, descending (`caller` names the sweep in errors). */
export function normaliseLevels(levels: readonly number[], count: number, caller = 'obsSweep'): number[] {
  if (!Array.isArray(levels) || levels.length === 0)
    throw new LevelError(`${caller}: levels is empty; pass the kept structure counts to snapshot`);
  for (const level of levels) {
    if (!Number.isSafeInteger(level) || level < 0 || level > count) {
      throw new LevelError(`${caller}: level ${level} is out of range; kept structure counts must be integers in [0, ${count}]`);
    }
  }
  return [...new Set(levels)].sort((a, b) => b - a);
}

/**
 * Runs the greedy structured OBS sweep of one layer and returns a snapshot at every requested level.
 * See the module comment for the algorithm, the losses and the error measure.
 */
export async function obsSweep(problem: ObsProblem, options: SweepOptions): Promise<SweepResult> {
  const { rows, cols, weight, hessian, bias, mean } = problem;
  const groupSize = options.groupSize ?? 1;
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1) {
    throw new ShapeError(`obsSweep: rows and cols must be positive integers, got ${rows}×${cols}`);
  }
  if (weight.length !== rows * cols)
    throw new ShapeError(`obsSweep: weight holds ${weight.length} values, expected rows·cols = ${rows}·${cols} = ${rows * cols}`);
  if (hessian.length !== cols * cols)
    throw new ShapeError(`obsSweep: hessian holds ${hessian.length} values, expected cols² = ${cols}² = ${cols * cols}`);
  if (!Number.isSafeInteger(groupSize) || groupSize < 1)
    throw new ShapeError(`obsSweep: groupSize must be a positive integer, got ${groupSize}`);
  if (cols % groupSize !== 0) throw new ShapeError(`obsSweep: cols (${cols}) is not divisible by groupSize (${groupSize})`);
  if (bias !== undefined && bias.length !== rows)
    throw new ShapeError(`obsSweep: bias has ${bias.length} entries, expected rows = ${rows}`);
  if (mean !== undefined && mean.length !== cols)
    throw new ShapeError(`obsSweep: mean has ${mean.length} entries, expected cols = ${cols}`);
  if (bias !== undefined && mean === undefined && bias.some((b) => b !== 0)) {
    throw new ShapeError('obsSweep: a non-zero bias needs the input mean (HessianStatistics.mean) to compute E‖Wx + b‖²');
  }
  const lazyBlock = options.lazyBlock ?? 128;
  if (!Number.isSafeInteger(lazyBlock) || lazyBlock < 1)
    throw new ShapeError(`obsSweep: lazyBlock must be a positive integer, got ${lazyBlock}`);
  const count = cols / groupSize;
  const levels = normaliseLevels(options.levels, count);
  const positive = levels.filter((l) => l > 0);
  const lowest = positive.length > 0 ? positive[positive.length - 1]! : count;
  const totalSteps = count - lowest;
  const engine = options.engine ?? createJsMatMulEngine();
  const precision = options.snapshotPrecision ?? 'float64';
  const bad = firstNonFinite(weight);
  if (bad >= 0) throw new NumericalError(`obsSweep: weight[${Math.floor(bad / cols)}][${bad % cols}] is not finite (${weight[bad]})`);

  const overwrite = options.overwriteHessian ?? false;
  // The state may replace the inverse by a right-sized copy later; this frame drops its reference
  // (`inverseBuffer = null` below) so that the n×n buffer can then be freed.
  let inverseBuffer: Float64Array | null = null;
  const prepared = await invertHessian(hessian, cols, { ...options, engine }).then(({ inverse, dead, deadValue, damping }) => {
    inverseBuffer = inverse;
    return { dead, deadValue, damping };
  });
  const lambda = prepared.damping.absolute;
  // Wᵀ with dead inputs zeroed: they never fire on the calibration data, and zero columns make them
  // free to remove and decoupled from the rest (guide/structured-obs.md).
  const w0t = new Float64Array(cols * rows);
  transposeTiled(weight, rows, cols, w0t);
  for (const d of prepared.dead) w0t.fill(0, d * rows, (d + 1) * rows);
  const colNorm0 = new Float64Array(cols);
  let w0Norm = 0;
  for (let c = 0; c < cols; c++) {
    colNorm0[c] = sumOfSquares(w0t, c * rows, (c + 1) * rows);
    w0Norm += colNorm0[c]!;
  }

  const scoreUpdate = options.scoreUpdate ?? (engine.name === 'js' ? 'matvec' : 'gram');
  const useGram = groupSize === 1 && scoreUpdate === 'gram' && totalSteps > 0;
  const state = new CompactState(
    rows,
    cols,
    w0t.slice(),
    inverseBuffer!,
    useGram,
    groupSize === 1 ? lazyBlock : groupSize,
    engine,
    groupSize > 1,
    !overwrite,
  );
  inverseBuffer = null;
  await state.startGram(cols);
  const order = new Int32Array(totalSteps);
  let removedCount = 0;
  let loss = 0;
  let pinvFallbacks = 0;
  const partial: Array<{ kept: number; keptIndices: Int32Array; weight: Float32Array | Float64Array; obsLoss: number; dw2: number }> = [];

  const takeSnapshot = (kept: number): void => {
    const { k, wt, keptCols } = state;
    const keptIndices = new Int32Array(kept);
    for (let q = 0; q < kept; q++) keptIndices[q] = keptCols[q * groupSize]! / groupSize;
    const snapshotWeight = state.weight(precision === 'float32' ? new Float32Array(rows * k) : new Float64Array(rows * k));
    // ‖ΔW‖²_F against the prepared dense W: removed columns count whole, kept ones by their update.
    let dw2 = w0Norm;
    for (let q = 0; q < k; q++) {
      const col = keptCols[q]!;
      dw2 -= colNorm0[col]!;
      const a = col * rows;
      const b = q * rows;
      for (let i = 0; i < rows; i++) {
        const diff = w0t[a + i]! - wt[b + i]!;
        dw2 += diff * diff;
      }
    }
    partial.push({ kept, keptIndices, weight: snapshotWeight, obsLoss: loss, dw2: Math.max(0, dw2) });
  };

  // Scratch for the lazy size-1 steps.
  const diag = new Float64Array(cols);
  const norm = new Float64Array(cols);
  const h = new Float64Array(cols);
  const u = new Float64Array(cols);
  const colW = new Float64Array(rows);
  let scoresValid = false;

  /** One greedy removal of a single column, deferred (see module comment). */
  const lazyStep = (): void => {
    const { k, rows: m, wt, hinv, g, pendA, pendR, pendV, removed, p } = state;
    let best = Infinity;
    let j = -1;
    for (let c = 0; c < k; c++) {
      if (removed[c]) continue;
      const score = norm[c]! / diag[c]!;
      if (score < best) {
        best = score;
        j = c;
      }
    }
    if (j < 0) {
      // Every score is NaN: not reachable for finite inputs with a positive definite H_p.
      throw new NumericalError('obsSweep: no finite saliency left; H is too badly conditioned, raise relativeDamping');
    }
    // Current row j of H⁻¹ (and of G) and column j of W: base minus the pending low-rank part.
    // Only the upper triangles of H⁻¹ and G are kept current (see compactSymmetric).
    symmetricRow(hinv, k, j, h);
    if (g) symmetricRow(g, k, j, u);
    colW.set(wt.subarray(j * m, j * m + m));
    // Subtract the pending part, four corrections per pass over the k-vectors (fewer loads/stores
    // of h and u). G_t = G₀ − Σ (r_t·v_tᵀ + v_t·r_tᵀ): its row j gets r_t[j]·v_t + v_t[j]·r_t.
    let t = 0;
    for (; t + 3 < p; t += 4) {
      const o0 = t * k;
      const o1 = o0 + k;
      const o2 = o1 + k;
      const o3 = o2 + k;
      const f0 = pendR[o0 + j]!;
      const f1 = pendR[o1 + j]!;
      const f2 = pendR[o2 + j]!;
      const f3 = pendR[o3 + j]!;
      if (g) {
        const v0 = pendV[o0 + j]!;
        const v1 = pendV[o1 + j]!;
        const v2 = pendV[o2 + j]!;
        const v3 = pendV[o3 + j]!;
        for (let c = 0; c < k; c++) {
          const r0 = pendR[o0 + c]!;
          const r1 = pendR[o1 + c]!;
          const r2 = pendR[o2 + c]!;
          const r3 = pendR[o3 + c]!;
          h[c] -= f0 * r0 + f1 * r1 + f2 * r2 + f3 * r3;
          u[c] -=
            f0 * pendV[o0 + c]! + f1 * pendV[o1 + c]! + f2 * pendV[o2 + c]! + f3 * pendV[o3 + c]! + v0 * r0 + v1 * r1 + v2 * r2 + v3 * r3;
        }
      } else {
        for (let c = 0; c < k; c++) h[c] -= f0 * pendR[o0 + c]! + f1 * pendR[o1 + c]! + f2 * pendR[o2 + c]! + f3 * pendR[o3 + c]!;
      }
      const a0 = t * m;
      const a1 = a0 + m;
      const a2 = a1 + m;
      const a3 = a2 + m;
      for (let i = 0; i < m; i++) colW[i] -= f0 * pendA[a0 + i]! + f1 * pendA[a1 + i]! + f2 * pendA[a2 + i]! + f3 * pendA[a3 + i]!;
    }
    for (; t < p; t++) {
      const rt = t * k;
      const f = pendR[rt + j]!;
      if (g) {
        const fv = pendV[rt + j]!;
        for (let c = 0; c < k; c++) u[c] -= f * pendV[rt + c]! + fv * pendR[rt + c]!;
      }
      if (f === 0) continue;
      for (let c = 0; c < k; c++) h[c] -= f * pendR[rt + c]!;
      const at = t * m;
      for (let i = 0; i < m; i++) colW[i] -= f * pendA[at + i]!;
    }
    const d = h[j]!;
    if (!(d > 0))
      throw new NumericalError(
        `obsSweep: diagonal ${d} of the downdated H⁻¹ is not positive (column ${state.keptCols[j]}); raise relativeDamping`,
      );
    let wNorm = 0;
    for (let i = 0; i < m; i++) wNorm += colW[i]! * colW[i]!;
    const rho = wNorm / d;
    loss += rho / 2;
    const inv = 1 / Math.sqrt(d);
    const aRow = p * m;
    for (let i = 0; i < m; i++) pendA[aRow + i] = colW[i]! * inv;
    const rRow = p * k;
    for (let c = 0; c < k; c++) pendR[rRow + c] = h[c]! * inv;
    if (g) {
      // u = W_tᵀ·a = G_t[:, j]/√d; store v = u − ½‖a‖²·r for the G flush (‖a‖² = ρ).
      for (let c = 0; c < k; c++) {
        const uc = u[c]! * inv;
        u[c] = uc;
        pendV[rRow + c] = uc - 0.5 * rho * pendR[rRow + c]!;
      }
    } else {
      // u = W_tᵀ·a with W_t = W₀ − Σ_{t<p} a_t·r_tᵀ: one pass over the base W plus the pending part.
      transposedMatVec(wt, m, k, pendA, aRow, u);
      for (let t2 = 0; t2 < p; t2++) {
        let coef = 0;
        const at = t2 * m;
        for (let i = 0; i < m; i++) coef += pendA[at + i]! * pendA[aRow + i]!;
        if (coef === 0) continue;
        const rt = t2 * k;
        for (let c = 0; c < k; c++) u[c] -= coef * pendR[rt + c]!;
      }
    }
    // Update both score ingredients for W − a·rᵀ and H⁻¹ − r·rᵀ.
    for (let c = 0; c < k; c++) {
      const rc = pendR[rRow + c]!;
      norm[c] += rc * (rc * rho - 2 * u[c]!);
      diag[c] -= rc * rc;
    }
    removed[j] = 1;
    state.p = p + 1;
    order[removedCount] = state.keptCols[j]!;
  };

  const block = new Float64Array(groupSize * groupSize);
  /**
   * One greedy removal of a group of s columns, applied immediately (the group count is small). With
   * B_q = L·Lᵀ and F = L⁻¹ (or the pseudo-inverse factor, B_q⁺ = FᵀF), the score is
   * ρ_q = ‖F·W[:, M_q]ᵀ‖²_F and the correction is A = F·W[:, M_q]ᵀ, R = F·H⁻¹[M_q, :]: GEMMs on
   * contiguous operands (rows of Wᵀ and of H⁻¹).
   */
  const groupStep = async (): Promise<void> => {
    const s = groupSize;
    const { k, rows: m, wt, hinv, pendA, pendR, removed } = state;
    const groups = k / s;
    let best = Infinity;
    let j = -1;
    let bestFactor: Float64Array | null = null;
    let bestA: Float64Array | null = null;
    let bestRank = 0;
    let bestIsPinv = false;
    for (let q = 0; q < groups; q++) {
      const c0 = q * s;
      for (let a = 0; a < s; a++) block.set(hinv.subarray((c0 + a) * k + c0, (c0 + a) * k + c0 + s), a * s);
      let factor: Float64Array;
      let rank = s;
      let isPinv = false;
      if (choleskySmall(block, s) < 0) {
        factor = invertLowerSmall(block, s);
      } else {
        for (let a = 0; a < s; a++) block.set(hinv.subarray((c0 + a) * k + c0, (c0 + a) * k + c0 + s), a * s);
        const pinv = pinvFactorSmall(block, s);
        factor = pinv.factor;
        rank = pinv.rank;
        isPinv = true;
      }
      const a = rank > 0 ? await engine.matmulF64(factor, wt.subarray(c0 * m, (c0 + s) * m), rank, s, m) : new Float64Array(0);
      const score = sumOfSquares(a);
      if (score < best) {
        best = score;
        j = q;
        bestFactor = factor;
        bestA = a;
        bestRank = rank;
        bestIsPinv = isPinv;
      }
    }
    if (j < 0 || bestFactor === null || bestA === null)
      throw new NumericalError('obsSweep: no finite group saliency left; raise relativeDamping');
    loss += best / 2;
    if (bestIsPinv) pinvFallbacks++;
    const c0 = j * s;
    pendA.set(bestA);
    if (bestRank > 0) pendR.set(await engine.matmulF64(bestFactor, hinv.subarray(c0 * k, (c0 + s) * k), bestRank, s, k));
    for (let a = 0; a < s; a++) removed[c0 + a] = 1;
    order[removedCount] = state.keptCols[c0]! / s;
    state.p = bestRank;
    await state.flush();
  };

  let kept = count;
  for (const level of positive) {
    while (kept > level) {
      if (groupSize === 1) {
        if (!scoresValid) {
          state.baseScores(diag, norm);
          scoresValid = true;
        }
        lazyStep();
        if (state.p === lazyBlock) {
          await state.flush();
          await state.startGram(cols);
          scoresValid = false;
        }
      } else {
        await groupStep();
      }
      removedCount++;
      kept--;
      options.onProgress?.(removedCount, totalSteps);
    }
    await state.flush();
    await state.startGram(cols);
    scoresValid = false;
    takeSnapshot(kept);
  }

  // ½·tr(W·H_p·Wᵀ) = L_f + ½·tr(Ŵ_f·H_p[K_f,K_f]·Ŵ_fᵀ) (module comment). H_p[K_f,K_f] comes from H when
  // the caller kept it, else as the inverse of the (exact) compacted H⁻¹.
  const kf = state.k;
  let hpKK: Float64Array;
  if (!overwrite) {
    hpKK = gatherPreparedBlock(hessian, cols, state.keptCols, kf, prepared.dead, prepared.deadValue, lambda);
  } else {
    hpKK = state.hinv.slice(0, kf * kf);
    if (!state.fullStorage) mirrorUpperToLower(hpKK, kf);
    const result = await choleskyInverseInPlace(hpKK, kf, engine, options.blockSize ?? DEFAULT_BLOCK_SIZE);
    if (result.failedColumn >= 0)
      throw new NumericalError('obsSweep: the final downdated H⁻¹ is not positive definite; raise relativeDamping');
  }
  const wtf = state.wt.subarray(0, kf * rows);
  const hpWt = await engine.matmulF64(hpKK, wtf, kf, kf, rows);
  const totalLoss = loss + dot(wtf, hpWt, kf * rows) / 2;
  let outputEnergy = Math.max(0, totalLoss - (lambda * w0Norm) / 2);
  if (bias !== undefined && mean !== undefined) outputEnergy += biasEnergy(w0t, rows, cols, mean, bias);

  const snapshots: Snapshot[] = partial.map((snap) => {
    const numerator = Math.max(0, snap.obsLoss - (lambda * snap.dw2) / 2);
    return {
      kept: snap.kept,
      keptIndices: snap.keptIndices,
      weight: snap.weight,
      obsLoss: snap.obsLoss,
      error: outputEnergy > 0 ? numerator / outputEnergy : 0,
    };
  });
  if (levels[levels.length - 1] === 0) {
    snapshots.push({
      kept: 0,
      keptIndices: new Int32Array(0),
      weight: precision === 'float32' ? new Float32Array(0) : new Float64Array(0),
      obsLoss: totalLoss,
      error: 1,
    });
  }
  return {
    rows,
    cols,
    groupSize,
    snapshots,
    order,
    damping: prepared.damping,
    dead: prepared.dead,
    deadValue: prepared.deadValue,
    outputEnergy,
    pinvFallbacks,
  };
}
