// Hessian accumulation from streamed layer inputs: H = (2/n)·Σ_tokens x·xᵀ, in float64, plus the
// input mean (needed for exact output errors of a layer with a bias, see ./sweep.ts) and the token
// count n.
//
// Differences from the reference (guide/structured-obs.md), on purpose:
//  - n counts tokens, not sequences, so mixing batch shapes never re-weights data;
//  - an optional token mask drops padding tokens from H, the mean and n;
//  - the sum is kept unnormalised and scaled once in finalize() (no H *= n/(n+b) drift).
//
// Speed: masked-in tokens are gathered into chunks of `chunkTokens` rows and each chunk's XᵀX goes
// through the MatMulEngine as column tiles, computing only the block-upper-triangular tiles (I ≤ J):
// ~(1 + 1/T)/2 of the full product's flops for T tiles. In the float32 path each chunk product comes
// back as float32 and is added into the float64 sum, so rounding error does not grow with n.

import { mirrorUpperToLower } from './cholesky.js';
import { createJsMatMulEngine } from './engine.js';
import type { MatMulEngine } from './engine-types.js';
import { CalibrationError, HessianError, NumericalError, ShapeError } from './errors.js';

/** Options of {@link HessianAccumulator}. */
export interface HessianAccumulatorOptions {
  /** GEMM engine for the chunk products (default: the plain TypeScript engine). */
  engine?: MatMulEngine;
  /**
   * Precision of the chunk products. `float32` (default) matches the float32 activations and is what
   * accelerated engines run fastest; `float64` makes every chunk product exact to float64 rounding.
   * The running sum is float64 either way.
   */
  precision?: 'float32' | 'float64';
  /** Tokens per chunk product (default 2048). Also bounds the float32 error of one chunk. */
  chunkTokens?: number;
  /** Column tile of the block-upper-triangular product (default 512). */
  tileSize?: number;
}

/** What {@link HessianAccumulator.finalize} returns. */
export interface HessianStatistics {
  /** d×d, symmetric, row-major: H = (2/n)·Σ x·xᵀ over the counted tokens. */
  hessian: Float64Array;
  /** d: the mean of the counted tokens' inputs. */
  mean: Float64Array;
  /** n: the number of counted tokens. */
  tokens: number;
  dim: number;
}

type Chunk = Float32Array | Float64Array;

/**
 * Copies the counted tokens of x[from, tokens) into the chunk (from row `fill`) until it is full,
 * adding them to the mean sum. Returns the next token, the new fill and the flat index of a non-finite
 * input (or -1).
 */
function gatherTokens(
  x: Float32Array | Float64Array,
  from: number,
  tokens: number,
  d: number,
  mask: ArrayLike<number> | undefined,
  chunk: Chunk,
  fill: number,
  capacity: number,
  meanSum: Float64Array,
): { token: number; fill: number; bad: number } {
  let t = from;
  for (; t < tokens && fill < capacity; t++) {
    if (mask !== undefined && !mask[t]) continue;
    const src = t * d;
    const dst = fill * d;
    // Check the whole token first, so a bad token leaves the accumulator as it was before it.
    for (let j = 0; j < d; j++) if (!Number.isFinite(x[src + j]!)) return { token: t, fill, bad: src + j };
    for (let j = 0; j < d; j++) {
      const v = x[src + j]!;
      chunk[dst + j] = v;
      meanSum[j] += v;
    }
    fill++;
  }
  return { token: t, fill, bad: -1 };
}

/** sum[(i0 + r)·d + j0 + c] += product[r·wj + c]. */
function addTile(sum: Float64Array, d: number, i0: number, j0: number, product: Float32Array | Float64Array, wi: number, wj: number): void {
  for (let r = 0; r < wi; r++) {
    const dst = (i0 + r) * d + j0;
    const src = r * wj;
    for (let c = 0; c < wj; c++) sum[dst + c] += product[src + c]!;
  }
}

/**
 * Streams layer inputs (tokens × d, row-major) into the statistics the OBS solver needs.
 *
 * ```ts
 * const acc = new HessianAccumulator(768);
 * await acc.add(batchInputs, batch * seq, attentionMask);   // float32, (batch·seq) × 768
 * const { hessian, mean, tokens } = await acc.finalize();
 * ```
 */
export class HessianAccumulator {
  readonly dim: number;
  private readonly engine: MatMulEngine;
  private readonly precision: 'float32' | 'float64';
  private readonly chunkTokens: number;
  private readonly tileSize: number;
  private sum: Float64Array | null;
  private readonly meanSum: Float64Array;
  private counted = 0;
  private chunk: Chunk;
  private chunkFill = 0;
  /** Serialises add() calls, so concurrent callers cannot interleave chunk buffers. */
  private queue: Promise<void> = Promise.resolve();

  constructor(dim: number, options: HessianAccumulatorOptions = {}) {
    if (!Number.isSafeInteger(dim) || dim < 1) throw new ShapeError(`HessianAccumulator: dim must be a positive integer, got ${dim}`);
    const chunkTokens = options.chunkTokens ?? 2048;
    const tileSize = options.tileSize ?? 512;
    if (!Number.isSafeInteger(chunkTokens) || chunkTokens < 1)
      throw new ShapeError(`HessianAccumulator: chunkTokens must be a positive integer, got ${chunkTokens}`);
    if (!Number.isSafeInteger(tileSize) || tileSize < 1)
      throw new ShapeError(`HessianAccumulator: tileSize must be a positive integer, got ${tileSize}`);
    this.dim = dim;
    this.engine = options.engine ?? createJsMatMulEngine();
    this.precision = options.precision ?? 'float32';
    this.chunkTokens = chunkTokens;
    this.tileSize = tileSize;
    this.sum = new Float64Array(dim * dim);
    this.meanSum = new Float64Array(dim);
    this.chunk = this.precision === 'float32' ? new Float32Array(chunkTokens * dim) : new Float64Array(chunkTokens * dim);
  }

  /** Tokens counted so far (masked-out tokens excluded). */
  get tokens(): number {
    return this.counted;
  }

  /**
   * Adds `tokens` rows of inputs (`x` is tokens × dim, row-major). `mask[t]` non-zero means token t
   * counts (e.g. an attention mask, so padding does not enter H). Calls are processed in order.
   */
  add(x: Float32Array | Float64Array, tokens: number, mask?: ArrayLike<number>): Promise<void> {
    const run = this.queue.then(() => this.addNow(x, tokens, mask));
    // Keep the queue alive after a failure; the caller still sees the rejection through `run`.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async addNow(x: Float32Array | Float64Array, tokens: number, mask?: ArrayLike<number>): Promise<void> {
    if (this.sum === null) throw new HessianError('HessianAccumulator: add() after finalize()');
    const d = this.dim;
    if (!Number.isSafeInteger(tokens) || tokens < 0)
      throw new ShapeError(`HessianAccumulator.add: tokens must be a non-negative integer, got ${tokens}`);
    if (x.length !== tokens * d) {
      throw new ShapeError(`HessianAccumulator.add: inputs hold ${x.length} values, expected tokens·dim = ${tokens}·${d} = ${tokens * d}`);
    }
    if (mask !== undefined && mask.length !== tokens) {
      throw new ShapeError(`HessianAccumulator.add: mask has ${mask.length} entries for ${tokens} tokens`);
    }
    let t = 0;
    while (t < tokens) {
      const next = gatherTokens(x, t, tokens, d, mask, this.chunk, this.chunkFill, this.chunkTokens, this.meanSum);
      if (next.bad >= 0)
        throw new NumericalError(
          `HessianAccumulator.add: input of token ${Math.floor(next.bad / d)}, feature ${next.bad % d} is not finite`,
        );
      this.counted += next.fill - this.chunkFill;
      this.chunkFill = next.fill;
      t = next.token;
      if (this.chunkFill === this.chunkTokens) await this.flushChunk();
    }
  }

  /** Adds the block-upper-triangular tiles of chunkᵀ·chunk into the float64 sum. */
  private async flushChunk(): Promise<void> {
    const n = this.chunkFill;
    if (n === 0) return;
    this.chunkFill = 0;
    const d = this.dim;
    const sum = this.sum!;
    const starts: number[] = [];
    for (let s = 0; s < d; s += this.tileSize) starts.push(s);
    // Column panels of the chunk (n × width each), contiguous so each can be a GEMM operand.
    const panels: Chunk[] = starts.map((s) => {
      const e = Math.min(s + this.tileSize, d);
      const w = e - s;
      const panel = this.precision === 'float32' ? new Float32Array(n * w) : new Float64Array(n * w);
      for (let t = 0; t < n; t++) panel.set(this.chunk.subarray(t * d + s, t * d + e), t * w);
      return panel;
    });
    for (let bi = 0; bi < starts.length; bi++) {
      const i0 = starts[bi]!;
      const wi = Math.min(i0 + this.tileSize, d) - i0;
      for (let bj = bi; bj < starts.length; bj++) {
        const j0 = starts[bj]!;
        const wj = Math.min(j0 + this.tileSize, d) - j0;
        const product =
          this.precision === 'float32'
            ? await this.engine.matmulF32(panels[bi] as Float32Array, panels[bj] as Float32Array, wi, n, wj, { transA: true })
            : await this.engine.matmulF64(panels[bi] as Float64Array, panels[bj] as Float64Array, wi, n, wj, { transA: true });
        addTile(sum, d, i0, j0, product, wi, wj);
      }
    }
  }

  /**
   * Finishes accumulation and returns H = (2/n)·Σ x·xᵀ (exactly symmetric), the mean and n. The
   * accumulator's buffer becomes the returned `hessian` (no d×d copy); further add() calls throw.
   * Throws {@link CalibrationError} when no token was counted.
   */
  async finalize(): Promise<HessianStatistics> {
    await this.queue;
    if (this.sum === null) throw new HessianError('HessianAccumulator: finalize() called twice');
    if (this.counted === 0) {
      throw new CalibrationError('HessianAccumulator: no calibration tokens were added (empty batches or every token masked out)');
    }
    await this.flushChunk();
    const d = this.dim;
    const h = this.sum;
    this.sum = null;
    this.chunk = new Float32Array(0);
    // Only tiles with I ≤ J were accumulated; the diagonal tiles are full but, in float32, not exactly
    // symmetric. Taking the upper triangle everywhere makes H exactly symmetric.
    mirrorUpperToLower(h, d);
    const scale = 2 / this.counted;
    for (let i = 0; i < h.length; i++) h[i] *= scale;
    const mean = new Float64Array(d);
    for (let j = 0; j < d; j++) mean[j] = this.meanSum[j]! / this.counted;
    return { hessian: h, mean, tokens: this.counted, dim: d };
  }
}
