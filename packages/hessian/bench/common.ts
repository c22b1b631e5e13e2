// Shared by the benchmarks of @ziplm/hessian (index.ts: the structured solver; compress.ts: GPTQ and SparseGPT):
// the engine choice, the synthetic layer inputs and the timers.

import { seededRandom } from '@ziplm/test-utils';
import { createJsMatMulEngine, type MatMulEngine } from '../src/index.js';

export async function pickEngine(): Promise<{ engine: MatMulEngine; dispose: () => Promise<void>; note: string }> {
  if (process.env.ZIPLM_BENCH_ENGINE !== 'js') {
    try {
      const runtime = (await import('@ziplm/onnx/runtime')) as {
        createOrtMatMulEngine?: (o?: { threads?: number }) => Promise<MatMulEngine & { dispose(): Promise<void> }>;
      };
      if (typeof runtime.createOrtMatMulEngine === 'function') {
        const engine = await runtime.createOrtMatMulEngine();
        return { engine, dispose: () => engine.dispose(), note: 'from @ziplm/onnx/runtime' };
      }
      return {
        engine: createJsMatMulEngine(),
        dispose: async () => {},
        note: '@ziplm/onnx/runtime has no createOrtMatMulEngine yet: plain JS engine',
      };
    } catch (error) {
      return {
        engine: createJsMatMulEngine(),
        dispose: async () => {},
        note: `onnxruntime unavailable (${(error as Error).message.split('\n')[0]}): plain JS engine`,
      };
    }
  }
  return { engine: createJsMatMulEngine(), dispose: async () => {}, note: 'forced by ZIPLM_BENCH_ENGINE=js' };
}

/** Deterministic standard normals (Box–Muller over the workspace's seeded generator). */
export function normals(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-300))) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Synthetic layer inputs with the features that matter: correlated columns (a banded mixing), a
 * non-zero mean, very different feature scales, GELU-like sparsity for the FFN (about a third of the
 * activations at 0) and a few dead features.
 */
export function layerInputs(tokens: number, d: number, seed: number, gelu: boolean): Float32Array {
  const normal = normals(seed);
  const scale = Float64Array.from({ length: d }, (_, j) => 0.2 + (2 * ((j * 7919) % 101)) / 101);
  const x = new Float32Array(tokens * d);
  const z = new Float64Array(d);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < d; j++) z[j] = normal();
    for (let j = 0; j < d; j++) {
      let v = z[j]! + 0.6 * (j > 0 ? z[j - 1]! : 0) - 0.3 * (j > 6 ? z[j - 7]! : 0) + 0.2 * z[(j * 31) % d]!;
      v = v * scale[j]! + 0.1;
      if (gelu) v = v > -0.5 ? v : 0;
      if (j % 997 === 5) v = 0; // dead inputs
      x[t * d + j] = v;
    }
  }
  return x;
}

export function randomWeight(rows: number, cols: number, seed: number): Float32Array {
  const normal = normals(seed);
  return Float32Array.from({ length: rows * cols }, () => normal() * 0.05);
}

export async function time<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds: (performance.now() - start) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
}

/** Runs `fn` `runs` times; returns the run with the median wall time (and all wall times). */
export async function median<T>(runs: number, fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpu: number; all: number[] }> {
  const results: Array<{ value: T; seconds: number; cpu: number }> = [];
  for (let i = 0; i < runs; i++) results.push(await time(fn));
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds);
  return { ...sorted[Math.floor(runs / 2)]!, all: results.map((r) => r.seconds) };
}

/**
 * Strongly correlated layer inputs, the regime of real transformer activations (a low effective rank): each token
 * is `rank` hidden factors mixed into d features (the product runs through the engine), plus 10% independent noise,
 * with the same per-feature scales as {@link layerInputs}.
 */
export async function lowRankInputs(tokens: number, d: number, rank: number, seed: number, engine: MatMulEngine): Promise<Float32Array> {
  const normal = normals(seed);
  const factors = Float32Array.from({ length: tokens * rank }, () => normal());
  const mixing = Float32Array.from({ length: rank * d }, () => normal() / Math.sqrt(rank));
  const x = await engine.matmulF32(factors, mixing, tokens, rank, d);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < d; j++) {
      const i = t * d + j;
      x[i] = (x[i]! + 0.1 * normal()) * (0.2 + (2 * ((j * 7919) % 101)) / 101);
    }
  }
  return x;
}
