// Tiled matrix transpose on typed arrays. Model weights are stored [out, in] by some formats and read
// [in, out] by some kernels (nn.Linear vs Conv1D and MatMul), so several packages transpose 768×3072
// matrices; a naive loop writes with a stride of `rows` and misses the cache on nearly every write.

/** The float arrays a transpose reads and writes (float32 input may be widened into a float64 output). */
export type FloatArray = Float32Array | Float64Array;

/**
 * Where the matrices sit in their arrays. Both are row-major; a stride is the distance between the
 * starts of two consecutive rows, so a matrix can be a block of a wider one.
 */
export interface TransposeLayout {
  /** Index of src[0, 0] (default 0). */
  readonly srcOffset?: number;
  /** Row stride of src (default `cols`). */
  readonly srcStride?: number;
  /** Index of dst[0, 0] (default 0). */
  readonly dstOffset?: number;
  /** Row stride of dst (default `rows`). */
  readonly dstStride?: number;
}

// 32×32 tiles: a tile of float64 reads and writes is 2 × 8 KiB, well inside L1 on every current CPU.
const TILE = 32;

function checkIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`transpose: ${what} must be an integer >= 0, got ${value}`);
}

/**
 * Writes the transpose of the `rows` × `cols` matrix in `src` into `dst` (a `cols` × `rows` matrix):
 * dst[dstOffset + c·dstStride + r] = src[srcOffset + r·srcStride + c]. Throws a RangeError when a
 * dimension, offset or stride is invalid or either matrix does not fit its array. Returns `dst`.
 */
export function transpose<D extends FloatArray>(src: FloatArray, rows: number, cols: number, dst: D, layout: TransposeLayout = {}): D {
  const srcOffset = layout.srcOffset ?? 0;
  const srcStride = layout.srcStride ?? cols;
  const dstOffset = layout.dstOffset ?? 0;
  const dstStride = layout.dstStride ?? rows;
  checkIndex(rows, 'rows');
  checkIndex(cols, 'cols');
  checkIndex(srcOffset, 'srcOffset');
  checkIndex(dstOffset, 'dstOffset');
  if (!Number.isSafeInteger(srcStride) || srcStride < cols)
    throw new RangeError(`transpose: srcStride must be an integer >= cols (${cols}), got ${srcStride}`);
  if (!Number.isSafeInteger(dstStride) || dstStride < rows)
    throw new RangeError(`transpose: dstStride must be an integer >= rows (${rows}), got ${dstStride}`);
  if (rows === 0 || cols === 0) return dst;
  const srcEnd = srcOffset + (rows - 1) * srcStride + cols;
  if (srcEnd > src.length)
    throw new RangeError(
      `transpose: a ${rows}×${cols} source with stride ${srcStride} at offset ${srcOffset} needs ${srcEnd} values, the array holds ${src.length}`,
    );
  const dstEnd = dstOffset + (cols - 1) * dstStride + rows;
  if (dstEnd > dst.length)
    throw new RangeError(
      `transpose: a ${cols}×${rows} destination with stride ${dstStride} at offset ${dstOffset} needs ${dstEnd} values, the array holds ${dst.length}`,
    );
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(r0 + TILE, rows);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(c0 + TILE, cols);
      for (let r = r0; r < r1; r++) {
        const from = srcOffset + r * srcStride;
        const to = dstOffset + r;
        for (let c = c0; c < c1; c++) dst[to + c * dstStride] = src[from + c]!;
      }
    }
  }
  return dst;
}

/** The transpose of the `rows` × `cols` matrix `src`, as a new array of the same type. */
export function transposed(src: Float32Array, rows: number, cols: number): Float32Array;
export function transposed(src: Float64Array, rows: number, cols: number): Float64Array;
export function transposed(src: FloatArray, rows: number, cols: number): FloatArray {
  const size = rows * cols;
  if (src.length !== size) throw new RangeError(`transposed: the array holds ${src.length} values, a ${rows}×${cols} matrix ${size}`);
  return transpose(src, rows, cols, src instanceof Float32Array ? new Float32Array(size) : new Float64Array(size));
}
