import { maxAbsDiff, seededRandom } from '@ziplm/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { attr, GraphBuilder } from '../src/index.js';
import {
  createOrtMatMulEngine,
  createSession,
  loadOrt,
  OnnxRuntimeUnavailableError,
  sessionOptions,
  type OrtMatMulEngine,
} from '../src/runtime/index.js';
import { importOrt } from '../src/runtime/ort.js';

/** Reference GEMM with explicit strides: C = op(A)·op(B), row-major. */
function referenceGemm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
  transA: boolean,
  transB: boolean,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): number[] {
  const uniform = seededRandom(seed);
  return Array.from({ length: count }, () => uniform() * 2 - 1);
}

describe('loadOrt', () => {
  it('sets ORT_DISABLE_TELEMETRY and returns the module', async () => {
    delete process.env.ORT_DISABLE_TELEMETRY;
    const ort = await importOrt(() => import('onnxruntime-node'));
    expect(process.env.ORT_DISABLE_TELEMETRY).toBe('1');
    expect(typeof ort.InferenceSession.create).toBe('function');
    expect(await loadOrt()).toBe(await loadOrt());
  });

  it('names the missing package when onnxruntime-node is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'onnxruntime-node' imported from /x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const err = await importOrt(() => Promise.reject(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxRuntimeUnavailableError);
    expect((err as Error).message).toMatch(
      /optional peer dependency onnxruntime-node is not installed.*pnpm add onnxruntime-node@1\.30\.0/,
    );
    const broken = await importOrt(() => Promise.reject(new Error('libonnxruntime.so.1: cannot open shared object file'))).catch(
      (e: unknown) => e,
    );
    expect((broken as Error).message).toMatch(/onnxruntime-node failed to load: libonnxruntime/);
    const wrong = await importOrt(() => Promise.resolve({})).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(OnnxRuntimeUnavailableError);
  });
});

describe('sessionOptions', () => {
  it('maps the project settings onto onnxruntime options', () => {
    expect(sessionOptions()).toEqual({
      executionProviders: ['cpu'],
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      interOpNumThreads: 1,
      logSeverityLevel: 3,
    });
    const o = sessionOptions({
      threads: 2,
      allowSpinning: false,
      graphOptimizationLevel: 'basic',
      overrides: { enableCpuMemArena: false, extra: { session: { disable_prepacking: '1' } } },
    });
    expect(o.intraOpNumThreads).toBe(2);
    expect(o.graphOptimizationLevel).toBe('basic');
    expect(o.enableCpuMemArena).toBe(false);
    expect(o.extra).toEqual({ session: { disable_prepacking: '1', intra_op: { allow_spinning: '0' } } });
    expect(() => sessionOptions({ threads: 0 })).toThrow(/threads must be a positive integer, got 0/);
  });
});

describe('GraphBuilder graphs run in onnxruntime', () => {
  it('evaluates attributes of every common kind as written', async () => {
    const ort = await loadOrt();
    const g = new GraphBuilder('kinds');
    const x = g.input('x', 'float32', ['batch', 3]);
    const w = g.initializer('w', 'float32', [2, 3], [1, 0, -1, 2, 1, 0]); // used transposed (transB)
    const bias = g.initializer('bias', 'float32', [2], [0.5, -0.5]);
    const y = g.op('Gemm', [x, w, bias], { alpha: attr.float(2), beta: 0.5, transB: 1 });
    const t = g.op('Transpose', [y], { perm: [1, 0] });
    const ln = g.op(
      'LayerNormalization',
      [x, g.initializer('gamma', 'float32', [3], [1, 2, 3]), g.initializer('beta', 'float32', [3], [0, 0, 1])],
      {
        axis: -1,
        epsilon: 1e-5,
      },
    );
    const shape = g.op('Constant', [], { value: attr.tensor({ dataType: 'int64', dims: [1], data: new BigInt64Array([-1n]) }) });
    const flat = g.op('Reshape', [ln, shape]);
    const d = g.op('Cast', [flat], { to: 11 });
    g.output(t, 'float32', [2, 'batch'], 't');
    g.output(d, 'float64', [], 'flat64');
    const session = await createSession(g.toBytes());
    const xs = new Float32Array([1, 2, 3, -1, 0, 4]);
    const out = await session.run({ x: new ort.Tensor('float32', xs, [2, 3]) });
    // y = 2·x·wᵀ + 0.5·bias
    const expected = [
      [2 * (1 - 3) + 0.25, 2 * (2 + 2) - 0.25],
      [2 * (-1 - 4) + 0.25, 2 * (-2 + 0) - 0.25],
    ];
    expect(Array.from(out.t!.data as Float32Array)).toEqual([expected[0]![0], expected[1]![0], expected[0]![1], expected[1]![1]]);
    const flat64 = out.flat64!.data as Float64Array;
    expect(flat64).toBeInstanceOf(Float64Array);
    const row = [1, 2, 3];
    const mean = 2;
    const std = Math.sqrt(2 / 3 + 1e-5);
    expect(flat64[0]).toBeCloseTo(((row[0]! - mean) / std) * 1, 5);
    expect(flat64[2]).toBeCloseTo(((row[2]! - mean) / std) * 3 + 1, 5);
    await session.release();
  });
});

describe('createOrtMatMulEngine', () => {
  let engine: OrtMatMulEngine | undefined;
  afterAll(async () => engine?.dispose());

  it('matches a plain loop for every transpose variant in f32 and f64', async () => {
    engine = await createOrtMatMulEngine({ threads: 1 });
    expect(engine.name).toMatch(/onnxruntime-node 1\.30\.0/);
    const [m, k, n] = [5, 7, 3];
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = values(m * k, 1 + Number(transA));
        const b = values(k * n, 3 + Number(transB));
        const ref = referenceGemm(a, b, m, k, n, transA, transB);
        const c64 = await engine.matmulF64(Float64Array.from(a), Float64Array.from(b), m, k, n, { transA, transB });
        expect(c64).toBeInstanceOf(Float64Array);
        expect(maxAbsDiff(c64, ref)).toBeLessThan(1e-12);
        const c32 = await engine.matmulF32(Float32Array.from(a), Float32Array.from(b), m, k, n, { transA, transB });
        expect(c32).toBeInstanceOf(Float32Array);
        expect(maxAbsDiff(c32, ref)).toBeLessThan(1e-5);
      }
    }
  });

  it('handles dynamic sizes with the same sessions, empty products, and rejects bad arguments', async () => {
    engine ??= await createOrtMatMulEngine({ threads: 1 });
    for (const [m, k, n] of [
      [1, 1, 1],
      [64, 33, 17],
      [2, 300, 2],
    ] as const) {
      const a = values(m * k, m);
      const b = values(k * n, n);
      const c = await engine.matmulF64(Float64Array.from(a), Float64Array.from(b), m, k, n);
      expect(maxAbsDiff(c, referenceGemm(a, b, m, k, n, false, false))).toBeLessThan(1e-12);
    }
    // Views into larger buffers (byteOffset > 0) are read at their offset.
    const backing = Float64Array.from(values(3 + 6 + 6, 9));
    const av = backing.subarray(3, 9);
    const bv = backing.subarray(9, 15);
    const cv = await engine.matmulF64(av, bv, 2, 3, 2);
    expect(maxAbsDiff(cv, referenceGemm(av, bv, 2, 3, 2, false, false))).toBeLessThan(1e-12);
    expect(await engine.matmulF64(new Float64Array(0), new Float64Array(0), 2, 0, 3)).toEqual(new Float64Array(6));
    expect(await engine.matmulF32(new Float32Array(0), new Float32Array(6), 0, 2, 3)).toEqual(new Float32Array(0));
    await expect(engine.matmulF64(new Float64Array(5), new Float64Array(6), 2, 3, 2)).rejects.toThrow(
      /matmulF64: a has 5 elements, m·k = 6/,
    );
    await expect(engine.matmulF32(new Float32Array(6), new Float32Array(6), 2, 3, 3)).rejects.toThrow(/b has 6 elements, k·n = 9/);
    await expect(engine.matmulF32(new Float32Array(6), new Float32Array(6), 2, 3.5, 3)).rejects.toThrow(/k must be a non-negative integer/);
  });
});
