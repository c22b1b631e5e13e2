// onnxruntime as a GEMM engine for the OBS solver (@ziplm/hessian's MatMulEngine, implemented
// structurally so that neither package depends on the other). A plain-JS GEMM peaks at ~2.5 GFLOP/s
// on the project machines; onnxruntime's MLAS kernels reach ~59 GFLOP/s (f32) and ~29 (f64) on the
// same two cores (toolchain.md), which is what makes Hessian products of 3072-wide layers practical.
//
// One single-node graph per (dtype, transA, transB) with symbolic dims, built once and reused:
// session creation costs ~100 ms, a run ~50-70 µs of overhead. `new ort.Tensor(type, array, dims)`
// wraps the caller's typed array without copying.

import type { InferenceSession } from 'onnxruntime-node';
import { GraphBuilder } from '../graph.js';
import { createSession, loadOrt } from './ort.js';

/** Transposes of the operands of an {@link OrtMatMulEngine} product (structurally @ziplm/hessian's `MatMulOptions`). */
export interface OrtMatMulOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/**
 * Row-major GEMM: C[m×n] = op(A)·op(B), op(A) m×k (A stored k×m when transA), op(B) k×n (B stored
 * n×k when transB). Structurally equal to @ziplm/hessian's MatMulEngine, plus `dispose`.
 */
export interface OrtMatMulEngine {
  readonly name: string;
  matmulF64(a: Float64Array, b: Float64Array, m: number, k: number, n: number, options?: OrtMatMulOptions): Promise<Float64Array>;
  matmulF32(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options?: OrtMatMulOptions): Promise<Float32Array>;
  /** Releases the sessions; the engine must not be used afterwards. */
  dispose(): Promise<void>;
}

type Precision = 'float32' | 'float64';

/**
 * The graph for one variant. Without transposes it is MatMul; with any transpose it is Gemm, whose
 * transA/transB attributes let MLAS read the stored layout directly instead of materialising a
 * transposed copy (a Transpose node would cost a full pass over the operand).
 */
export function matmulGraph(precision: Precision, transA: boolean, transB: boolean): Uint8Array {
  const g = new GraphBuilder(`matmul_${precision}${transA ? '_tA' : ''}${transB ? '_tB' : ''}`);
  const a = g.input('A', precision, transA ? ['k', 'm'] : ['m', 'k']);
  const b = g.input('B', precision, transB ? ['n', 'k'] : ['k', 'n']);
  const c =
    transA || transB
      ? g.op('Gemm', [a, b], { transA: transA ? 1 : 0, transB: transB ? 1 : 0 }, { outputs: ['C'] })
      : g.op('MatMul', [a, b], {}, { outputs: ['C'] });
  g.output(c, precision, ['m', 'n']);
  return g.toBytes();
}

function checkArgs(label: string, a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): void {
  for (const [name, v] of [
    ['m', m],
    ['k', k],
    ['n', n],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${label}: ${name} must be a non-negative integer, got ${v}`);
  }
  if (a.length !== m * k) throw new RangeError(`${label}: a has ${a.length} elements, m·k = ${m * k}`);
  if (b.length !== k * n) throw new RangeError(`${label}: b has ${b.length} elements, k·n = ${k * n}`);
}

/**
 * Creates the onnxruntime GEMM engine. Sessions are created on first use of each variant and reused.
 *
 * @param options.threads intra-op threads (default: onnxruntime's default, the physical core count).
 */
export async function createOrtMatMulEngine(options: { threads?: number } = {}): Promise<OrtMatMulEngine> {
  const ort = await loadOrt();
  const sessions = new Map<string, Promise<InferenceSession>>();
  let disposed = false;

  const session = (precision: Precision, transA: boolean, transB: boolean): Promise<InferenceSession> => {
    const key = `${precision}:${transA}:${transB}`;
    let s = sessions.get(key);
    if (s === undefined) {
      // MatMul-type graphs gain nothing from graph optimisation; 'basic' keeps session creation cheap.
      s = createSession(matmulGraph(precision, transA, transB), {
        graphOptimizationLevel: 'basic',
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
      });
      sessions.set(key, s);
    }
    return s;
  };

  async function run<T extends Float32Array | Float64Array>(
    label: string,
    precision: Precision,
    a: T,
    b: T,
    m: number,
    k: number,
    n: number,
    opts: OrtMatMulOptions,
  ): Promise<T> {
    if (disposed) throw new Error(`${label}: the engine has been disposed`);
    checkArgs(label, a, b, m, k, n);
    const Ctor = (precision === 'float32' ? Float32Array : Float64Array) as unknown as new (n: number) => T;
    // Degenerate shapes: a k = 0 product is all zeros; onnxruntime is not needed (nor always happy) there.
    if (m === 0 || n === 0 || k === 0) return new Ctor(m * n);
    const transA = opts.transA === true;
    const transB = opts.transB === true;
    const s = await session(precision, transA, transB);
    const ta = new ort.Tensor(precision, a, transA ? [k, m] : [m, k]);
    const tb = new ort.Tensor(precision, b, transB ? [n, k] : [k, n]);
    const out = await s.run({ A: ta, B: tb });
    const c = out.C!;
    const data = c.data as T;
    if (!(data instanceof Ctor) || data.length !== m * n)
      throw new Error(`${label}: onnxruntime returned an unexpected result (${c.type} [${c.dims.join(', ')}])`);
    return data;
  }

  return {
    name: `onnxruntime-node ${ort.env.versions.node ?? ''}`.trim() + (options.threads !== undefined ? ` (${options.threads} threads)` : ''),
    matmulF32: (a, b, m, k, n, opts = {}) => run('matmulF32', 'float32', a, b, m, k, n, opts),
    matmulF64: (a, b, m, k, n, opts = {}) => run('matmulF64', 'float64', a, b, m, k, n, opts),
    async dispose() {
      disposed = true;
      const all = [...sessions.values()];
      sessions.clear();
      for (const s of all) await (await s).release();
    },
  };
}
