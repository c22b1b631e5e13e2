// The pluggable GEMM contract (shared with @ziplm/onnx, which provides an onnxruntime-backed engine).
// Every heavy step of this package (Hessian accumulation, blocked Cholesky, the lazy OBS flushes) is
// phrased as a handful of large matrix products so that an accelerated engine can run them; the plain
// TypeScript engine in ./engine.ts is the zero-dependency default.

/** Transpose flags of {@link MatMulEngine} calls. */
export interface MatMulOptions {
  /** Use Aᵀ: A is stored k×m (row-major) and op(A) = Aᵀ is m×k. */
  transA?: boolean;
  /** Use Bᵀ: B is stored n×k (row-major) and op(B) = Bᵀ is k×n. */
  transB?: boolean;
}

/**
 * Pluggable GEMM. Row-major. C[m×n] = op(A)·op(B); op(A) is m×k (A stored k×m when transA); op(B) is
 * k×n (B stored n×k when transB). The result is a new array the caller owns.
 */
export interface MatMulEngine {
  /** Short name for logs and benchmark output, e.g. `js` or `onnxruntime`. */
  readonly name: string;
  /** Float64 product; used wherever the solver must stay exact (Cholesky, OBS updates). */
  matmulF64(a: Float64Array, b: Float64Array, m: number, k: number, n: number, options?: MatMulOptions): Promise<Float64Array>;
  /** Float32 product; used for Hessian accumulation of float32 activations (chunks summed in float64). */
  matmulF32(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options?: MatMulOptions): Promise<Float32Array>;
}
