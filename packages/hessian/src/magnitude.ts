// Structure-magnitude pruning: the baseline of issue 6 ("Baselines and results") that ZipLM's OBS
// sweep is compared against under the same latency table and search.
//
// A structure is a group of `groupSize` consecutive input columns of W (rows×cols, nn.Linear [out, in]):
// an FFN neuron (1 column of FC2) or an attention head (head_dim columns of the output projection).
// Structures are ranked by the L2 norm of their weights, ‖W[:, M]‖_F, and removed smallest first, so
// the kept sets are nested and the kept set at level k is the k structures of largest norm. Exact ties
// go to the lowest index first (as in obsSweep). The kept weights are the ORIGINAL columns: no OBS
// update, no zeroing of dead inputs. The ranking ignores the calibration data entirely; the data
// (H and the mean) is only used to measure what the removal costs, so that both methods feed the
// search with errors on the same scale.
//
// Errors. With ΔW = W[:, R] (the removed columns, zero elsewhere) and H = (2/n)·Σ x·xᵀ:
//     E‖ΔW·x‖² = ½·tr(ΔW·H·ΔWᵀ) = ½·Σ_{i,j ∈ R} H_ij·G_ij,   G = WᵀW,
// so with P = sym(H) ∘ G and the structure-level sums Q_ab = Σ_{i∈a, j∈b} P_ij,
//     E‖ΔW·x‖²(R) = ½·Σ_{a,b ∈ R} Q_ab,   and adding s to R adds Σ_{a∈R} Q_as + ½·Q_ss.
// G comes from one symmetric GEMM through the engine (panels of the upper block triangle, rows·cols²
// flops), P and Q in one O(cols²) pass, and the errors of every level from one O(count²) incremental
// pass over the removal order, instead of one GEMM per level. The denominator is the same as
// obsSweep's: E‖W·x + b‖² = ½·Σ_ij P_ij + 2·bᵀ·W·μ + ‖b‖².
//
// obsLoss is ½·tr(ΔW·H_p·ΔWᵀ) with the prepared H_p that obsSweep would use for the same damping
// (see ./prepare.ts and `preparedHessian`): sym(H), dead inputs' diagonal set to the mean live
// diagonal, plus λ·I. H_p differs from sym(H) only on the diagonal, so
//     obsLoss = E‖ΔW·x‖² + ½·Σ_{c ∈ R} (λ + [c dead]·deadValue)·‖W[:, c]‖².
// It is therefore directly comparable with obsSweep's obsLoss (which is the minimum of this objective
// over updates of the kept columns). Unlike obsSweep, nothing is factorised, so the damping is used as
// given: `damping.tried` has one entry.

import { mirrorUpperToLower } from './cholesky.js';
import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { CalibrationError, NotPositiveDefiniteError, NumericalError, ShapeError } from './errors.js';
import { biasEnergy, normaliseLevels, type ObsProblem, type Snapshot, type SweepOptions, type SweepResult } from './sweep.js';
import { firstNonFinite, sumOfSquares, transposeTiled } from './internal/kernels.js';

/** Options of {@link magnitudeSweep}: the subset of {@link SweepOptions} that applies without OBS updates. */
export type MagnitudeSweepOptions = Pick<
  SweepOptions,
  'levels' | 'groupSize' | 'relativeDamping' | 'engine' | 'snapshotPrecision' | 'onProgress'
>;

/** Rows of G per GEMM panel (bounds the temporary to PANEL × cols). */
const PANEL = 256;

/** Columns per tile of {@link accumulatePanel}: the strided reads of H[j][i] stay in cache within a tile. */
const TILE = 64;

/**
 * Adds the panel rows [i0, i1) of P = sym(H) ∘ G to the upper triangle of Q (count × count, structure
 * sums). `t` is G[i0:i1, i0:cols] row-major. Only pairs j ≥ i are visited; an off-diagonal pair inside
 * one structure counts twice (P_ij and P_ji both belong to Q_aa). The j loop runs in tiles of TILE
 * columns so that reading H[j][i] (down a column of H, for the symmetric part) touches TILE rows of H
 * while i advances. Returns Σ_ij P_ij over the visited rows' upper triangle, off-diagonal terms
 * doubled: the panel's share of tr(W·H·Wᵀ).
 */
function accumulatePanel(
  q: Float64Array,
  count: number,
  groupSize: number,
  h: Float64Array,
  cols: number,
  t: Float64Array,
  i0: number,
  i1: number,
): number {
  const width = cols - i0;
  let energy = 0;
  for (let i = i0; i < i1; i++) {
    const a = (i / groupSize) | 0;
    const pd = h[i * cols + i]! * t[(i - i0) * width + (i - i0)]!;
    q[a * count + a] += pd;
    energy += pd;
  }
  for (let j0 = i0; j0 < cols; j0 += TILE) {
    const j1 = Math.min(j0 + TILE, cols);
    for (let i = i0; i < i1 && i < j1; i++) {
      const a = (i / groupSize) | 0;
      const tRow = (i - i0) * width - i0;
      const hRow = i * cols;
      const qRow = a * count;
      let off = 0;
      const jStart = j0 > i ? j0 : i + 1;
      if (groupSize === 1) {
        // Q = P: one entry per pair, written once.
        for (let j = jStart; j < j1; j++) {
          const p = 0.5 * (h[hRow + j]! + h[j * cols + i]!) * t[tRow + j]!;
          q[qRow + j] = p;
          off += p;
        }
      } else {
        for (let j = jStart; j < j1; j++) {
          const p = 0.5 * (h[hRow + j]! + h[j * cols + i]!) * t[tRow + j]!;
          const b = (j / groupSize) | 0;
          q[qRow + b] += b === a ? 2 * p : p;
          off += p;
        }
      }
      energy += 2 * off;
    }
  }
  return energy;
}

/** Structure indices sorted by squared norm ascending, exact ties by index ascending. */
function magnitudeOrder(structureNorm: Float64Array): Int32Array {
  const order = Array.from({ length: structureNorm.length }, (_, s) => s);
  order.sort((a, b) => structureNorm[a]! - structureNorm[b]! || a - b);
  return Int32Array.from(order);
}

/**
 * E‖ΔW·x‖² after each of the first `steps` removals of `ranking` (index = structures removed, 0..steps):
 * S(R ∪ {s}) = S(R) + Σ_{a∈R} Q_sa + ½·Q_ss, from the symmetric Q; O(steps²) in all. `extra` is
 * the damping part of obsLoss, ½·Σ_{s∈R} dampedDiagonal_s.
 */
function removalSums(
  q: Float64Array,
  count: number,
  ranking: Int32Array,
  dampedDiagonal: Float64Array,
  steps: number,
  onProgress: ((removed: number, total: number) => void) | undefined,
): { numerator: Float64Array; extra: Float64Array } {
  const numerator = new Float64Array(steps + 1);
  const extra = new Float64Array(steps + 1);
  for (let removed = 0; removed < steps; removed++) {
    const s = ranking[removed]!;
    const sRow = s * count;
    // Row s of the (mirrored, fully symmetric) Q: one contiguous row, gathered at the removed set.
    let cross = 0;
    for (let r = 0; r < removed; r++) cross += q[sRow + ranking[r]!]!;
    numerator[removed + 1] = numerator[removed]! + cross + 0.5 * q[sRow + s]!;
    extra[removed + 1] = extra[removed]! + 0.5 * dampedDiagonal[s]!;
    onProgress?.(removed + 1, steps);
  }
  return { numerator, extra };
}

/**
 * out (rows × kept·groupSize) = the original columns of the kept structures (ascending), no update.
 * One function per output type, both reading a float64 copy of W, so each stays monomorphic (the
 * snapshots of a BERT-base FFN layer copy ~23M values).
 */
function gatherStructuresF64(
  w: Float64Array,
  rows: number,
  cols: number,
  groupSize: number,
  keptIndices: Int32Array,
  out: Float64Array,
): Float64Array {
  const kept = keptIndices.length;
  const width = kept * groupSize;
  if (groupSize === 1) {
    for (let i = 0; i < rows; i++) {
      const src = i * cols;
      const dst = i * width;
      for (let k = 0; k < kept; k++) out[dst + k] = w[src + keptIndices[k]!]!;
    }
    return out;
  }
  for (let i = 0; i < rows; i++) {
    const src = i * cols;
    const dst = i * width;
    for (let k = 0; k < kept; k++) {
      const c0 = src + keptIndices[k]! * groupSize;
      const d0 = dst + k * groupSize;
      for (let a = 0; a < groupSize; a++) out[d0 + a] = w[c0 + a]!;
    }
  }
  return out;
}

/** {@link gatherStructuresF64} into float32 (exact when W was float32). */
function gatherStructuresF32(
  w: Float64Array,
  rows: number,
  cols: number,
  groupSize: number,
  keptIndices: Int32Array,
  out: Float32Array,
): Float32Array {
  const kept = keptIndices.length;
  const width = kept * groupSize;
  if (groupSize === 1) {
    for (let i = 0; i < rows; i++) {
      const src = i * cols;
      const dst = i * width;
      for (let k = 0; k < kept; k++) out[dst + k] = w[src + keptIndices[k]!]!;
    }
    return out;
  }
  for (let i = 0; i < rows; i++) {
    const src = i * cols;
    const dst = i * width;
    for (let k = 0; k < kept; k++) {
      const c0 = src + keptIndices[k]! * groupSize;
      const d0 = dst + k * groupSize;
      for (let a = 0; a < groupSize; a++) out[d0 + a] = w[c0 + a]!;
    }
  }
  return out;
}

/**
 * Structure-magnitude pruning of one layer with the result format of {@link obsSweep} (so the
 * {@link LevelDatabase} stores and serves it unchanged): structures are removed in ascending order of
 * the L2 norm of their weight columns, the kept columns keep their original weights, and each
 * snapshot's `error` is the relative squared output error on the calibration data,
 * E‖ΔW·x‖² / E‖W·x + b‖², computed exactly from H and the mean. `obsLoss` is ½·tr(ΔW·H_p·ΔWᵀ) with the
 * damped H_p obsSweep would use. See the module comment for the algebra.
 *
 * The result's `order` lists the structures removed down to the smallest positive level, `dead` the
 * inputs with a zero diagonal of H (reported, not treated specially) and `pinvFallbacks` is 0.
 */
export async function magnitudeSweep(problem: ObsProblem, options: MagnitudeSweepOptions): Promise<SweepResult> {
  const { rows, cols, weight, hessian, bias, mean } = problem;
  const groupSize = options.groupSize ?? 1;
  if (!Number.isSafeInteger(rows) || rows < 1 || !Number.isSafeInteger(cols) || cols < 1) {
    throw new ShapeError(`magnitudeSweep: rows and cols must be positive integers, got ${rows}×${cols}`);
  }
  if (weight.length !== rows * cols)
    throw new ShapeError(`magnitudeSweep: weight holds ${weight.length} values, expected rows·cols = ${rows}·${cols} = ${rows * cols}`);
  if (hessian.length !== cols * cols)
    throw new ShapeError(`magnitudeSweep: hessian holds ${hessian.length} values, expected cols² = ${cols}² = ${cols * cols}`);
  if (!Number.isSafeInteger(groupSize) || groupSize < 1)
    throw new ShapeError(`magnitudeSweep: groupSize must be a positive integer, got ${groupSize}`);
  if (cols % groupSize !== 0) throw new ShapeError(`magnitudeSweep: cols (${cols}) is not divisible by groupSize (${groupSize})`);
  if (bias !== undefined && bias.length !== rows)
    throw new ShapeError(`magnitudeSweep: bias has ${bias.length} entries, expected rows = ${rows}`);
  if (mean !== undefined && mean.length !== cols)
    throw new ShapeError(`magnitudeSweep: mean has ${mean.length} entries, expected cols = ${cols}`);
  if (bias !== undefined && mean === undefined && bias.some((b) => b !== 0)) {
    throw new ShapeError('magnitudeSweep: a non-zero bias needs the input mean (HessianStatistics.mean) to compute E‖Wx + b‖²');
  }
  const relative = options.relativeDamping ?? 0.01;
  if (!(relative >= 0) || !Number.isFinite(relative))
    throw new ShapeError(`magnitudeSweep: relativeDamping must be a finite number ≥ 0, got ${relative}`);
  const count = cols / groupSize;
  const levels = normaliseLevels(options.levels, count, 'magnitudeSweep');
  const positive = levels.filter((l) => l > 0);
  const lowest = positive.length > 0 ? positive[positive.length - 1]! : count;
  const totalSteps = count - lowest;
  const engine: MatMulEngine = options.engine ?? createJsMatMulEngine();
  const precision = options.snapshotPrecision ?? 'float64';
  const badWeight = firstNonFinite(weight);
  if (badWeight >= 0)
    throw new NumericalError(
      `magnitudeSweep: weight[${Math.floor(badWeight / cols)}][${badWeight % cols}] is not finite (${weight[badWeight]})`,
    );
  const badHessian = firstNonFinite(hessian);
  if (badHessian >= 0) throw new NumericalError(`magnitudeSweep: H[${Math.floor(badHessian / cols)}][${badHessian % cols}] is not finite`);

  // Dead inputs and the damping, exactly as invertHessian defines them (./prepare.ts), so that obsLoss
  // uses the same H_p as obsSweep's.
  const isDead = new Uint8Array(cols);
  const deadList: number[] = [];
  let liveSum = 0;
  for (let i = 0; i < cols; i++) {
    const v = hessian[i * cols + i]!;
    // A Gram matrix has a non-negative diagonal; with a negative one the "errors" would be meaningless.
    if (v < 0) throw new NotPositiveDefiniteError(`magnitudeSweep: H[${i}][${i}] = ${v} is negative; H must be 2XXᵀ/n`, []);
    if (v === 0) {
      isDead[i] = 1;
      deadList.push(i);
    } else liveSum += v;
  }
  const live = cols - deadList.length;
  // Same refusal as invertHessian: with H = 0 every error would be 0, whatever is removed.
  if (live === 0) {
    throw new CalibrationError(
      `magnitudeSweep: every one of the ${cols} inputs is dead (diag(H) is all zero, so H = 0): the layer's inputs were 0 on every calibration token; check how they were captured (hook, mask)`,
    );
  }
  const meanDiagonal = liveSum / live;
  const lambda = relative * meanDiagonal;

  // Wᵀ (cols × rows): a column of W, and so a column norm and a GEMM panel, is contiguous.
  const wt = new Float64Array(cols * rows);
  transposeTiled(weight, rows, cols, wt);

  // The ranking uses norms summed here in JS, not the GEMM's diagonal, so the order (and its exact
  // ties) does not depend on the engine's rounding.
  const structureNorm = new Float64Array(count);
  const dampedDiagonal = new Float64Array(count); // Σ_{c ∈ s} (λ + [dead]·deadValue)·‖W_c‖²
  for (let c = 0; c < cols; c++) {
    const norm = sumOfSquares(wt, c * rows, (c + 1) * rows);
    const s = (c / groupSize) | 0;
    structureNorm[s] += norm;
    dampedDiagonal[s] += (lambda + (isDead[c] ? meanDiagonal : 0)) * norm;
  }
  const ranking = magnitudeOrder(structureNorm);

  // Q (upper triangle first) and Σ_ij P_ij, from G = WᵀW in symmetric GEMM panels of Wᵀ·(Wᵀ)ᵀ.
  const q = new Float64Array(count * count);
  let trace = 0;
  for (let i0 = 0; i0 < cols; i0 += PANEL) {
    const i1 = Math.min(i0 + PANEL, cols);
    const t = await engine.matmulF64(wt.subarray(i0 * rows, i1 * rows), wt.subarray(i0 * rows, cols * rows), i1 - i0, rows, cols - i0, {
      transB: true,
    });
    trace += accumulatePanel(q, count, groupSize, hessian, cols, t, i0, i1);
  }
  // Full symmetric Q, so that the removal pass reads rows (contiguous) instead of columns.
  mirrorUpperToLower(q, count);
  // E‖W·x‖² = ½·tr(W·H·Wᵀ) ≥ 0 up to rounding.
  let outputEnergy = Math.max(0, trace / 2);
  if (bias !== undefined && mean !== undefined) outputEnergy += biasEnergy(wt, rows, cols, mean, bias);

  // Row-major float64 W for the snapshot gathers (exact for float32 weights).
  const w64 = weight instanceof Float64Array ? weight : Float64Array.from(weight);
  const sums = removalSums(q, count, ranking, dampedDiagonal, totalSteps, options.onProgress);
  const snapshots: Snapshot[] = positive.map((kept) => {
    const numerator = Math.max(0, sums.numerator[count - kept]!);
    // Kept structures: the `kept` largest norms, i.e. the tail of the ranking, in ascending index order.
    const keptIndices = ranking.slice(count - kept).sort();
    const size = rows * kept * groupSize;
    return {
      kept,
      keptIndices,
      weight:
        precision === 'float32'
          ? gatherStructuresF32(w64, rows, cols, groupSize, keptIndices, new Float32Array(size))
          : gatherStructuresF64(w64, rows, cols, groupSize, keptIndices, new Float64Array(size)),
      obsLoss: numerator + sums.extra[count - kept]!,
      error: outputEnergy > 0 ? numerator / outputEnergy : 0,
    };
  });
  if (levels[levels.length - 1] === 0) {
    // Module removed (bias dropped too): error 1 by definition, as in obsSweep; the loss is that of
    // ΔW = W, ½·tr(W·H_p·Wᵀ).
    let allExtra = 0;
    for (let s = 0; s < count; s++) allExtra += 0.5 * dampedDiagonal[s]!;
    snapshots.push({
      kept: 0,
      keptIndices: new Int32Array(0),
      weight: precision === 'float32' ? new Float32Array(0) : new Float64Array(0),
      obsLoss: Math.max(0, trace / 2) + allExtra,
      error: 1,
    });
  }
  return {
    rows,
    cols,
    groupSize,
    snapshots,
    order: ranking.slice(0, totalSteps),
    damping: { relative, absolute: lambda, meanDiagonal, tried: [relative] },
    dead: Int32Array.from(deadList),
    deadValue: meanDiagonal,
    outputEnergy,
    pinvFallbacks: 0,
  };
}
