// The solver with @ziplm/onnx's onnxruntime engine injected (the MatMulEngine the CLI and the benchmark
// use) against the default plain-TypeScript engine and the closed-form oracle.
//
// This lives here rather than in packages/onnx/test: @ziplm/hessian already has @ziplm/onnx as a dev
// dependency (for the benchmark), and the reverse dependency would make a package cycle, which turbo
// refuses for `build` (dependsOn ^build). The engine types are structural, so neither package imports
// the other's source.
//
// Precision: matmulF32 runs MLAS's float32 GEMM (float32 accumulation, unlike gemmF32, which
// accumulates in float64 and rounds once), so float32 Hessian products agree to ~k·2⁻²⁴ relative.
// matmulF64 is a float64 GEMM: the sweep, the Cholesky inverse and float64 accumulation agree with
// the JS engine to rounding, i.e. with the oracle to the same 1e-9 as the JS tests.
import { createOrtMatMulEngine, type OrtMatMulEngine } from '@ziplm/onnx/runtime';
import { maxAbsDiff } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HessianAccumulator, createJsMatMulEngine, obsSweep, preparedHessian, type ObsProblem, type SweepResult } from '../src/index.js';
import { closedFormOptimum, dataError, expand, keptColumns, relDiff, relativeMaxDiff } from './helpers/oracle.js';
import { correlatedTokens, hessianOf, maxAbs, randomMatrix } from './helpers/random.js';

let ort: OrtMatMulEngine;
beforeAll(async () => {
  ort = await createOrtMatMulEngine({ threads: 1 });
});
afterAll(async () => {
  await ort?.dispose();
});

function problemOf(
  x: Float64Array,
  tokens: number,
  rows: number,
  cols: number,
  seed: number,
): ObsProblem & { weight: Float64Array; bias: Float64Array } {
  const mean = new Float64Array(cols);
  for (let t = 0; t < tokens; t++) for (let c = 0; c < cols; c++) mean[c] += x[t * cols + c]! / tokens;
  return {
    weight: randomMatrix(rows, cols, seed),
    rows,
    cols,
    hessian: hessianOf(x, tokens, cols),
    mean,
    bias: randomMatrix(1, rows, seed + 1),
  };
}

/** Every snapshot against the closed-form optimum (with the solver's H_p) and the data error. */
function checkOracle(
  problem: ObsProblem & { weight: Float64Array; bias: Float64Array },
  x: Float64Array,
  tokens: number,
  result: SweepResult,
): void {
  const { weight, rows, cols, hessian, bias } = problem;
  const hp = preparedHessian(hessian, cols, result);
  for (const snap of result.snapshots) {
    if (snap.kept === 0) continue;
    const kept = keptColumns(snap.keptIndices, result.groupSize);
    expect(relativeMaxDiff(snap.weight, closedFormOptimum(weight, rows, cols, hp, kept))).toBeLessThan(1e-9);
    const direct = dataError(weight, expand(snap.weight, rows, cols, kept), bias, x, tokens, rows, cols);
    expect(Math.abs(snap.error - direct)).toBeLessThan(1e-9 * Math.max(direct, 1e-3));
  }
}

/** The onnxruntime result equals the JS engine's: same greedy order, same snapshots to rounding. */
function checkSameAs(ortResult: SweepResult, jsResult: SweepResult): void {
  expect(Array.from(ortResult.order)).toEqual(Array.from(jsResult.order));
  expect(ortResult.damping).toEqual(jsResult.damping);
  expect(relDiff(ortResult.outputEnergy, jsResult.outputEnergy)).toBeLessThan(1e-12);
  expect(ortResult.snapshots.map((s) => s.kept)).toEqual(jsResult.snapshots.map((s) => s.kept));
  ortResult.snapshots.forEach((snap, i) => {
    const ref = jsResult.snapshots[i]!;
    expect(Array.from(snap.keptIndices)).toEqual(Array.from(ref.keptIndices));
    expect(relativeMaxDiff(snap.weight, ref.weight)).toBeLessThan(1e-10);
    expect(relDiff(snap.obsLoss, ref.obsLoss)).toBeLessThan(1e-10);
    expect(relDiff(snap.error, ref.error)).toBeLessThan(1e-9);
  });
}

describe('HessianAccumulator with the onnxruntime engine', () => {
  const d = 37;
  const tokens = 300;
  const x = correlatedTokens(tokens, d, 21);
  const mask = Array.from({ length: tokens }, (_, t) => (t % 7 === 3 ? 0 : 1));
  const kept = x.filter((_, i) => mask[Math.floor(i / d)] === 1);
  const n = kept.length / d;

  it('float32 chunk products: H to float32 GEMM accuracy, the mean and n exactly as the JS engine', async () => {
    const x32 = Float32Array.from(x);
    // Odd chunk and tile sizes: partial chunks and partial tiles, all transA Gemm calls.
    const options = { chunkTokens: 64, tileSize: 16 } as const;
    const viaOrt = new HessianAccumulator(d, { ...options, engine: ort });
    const viaJs = new HessianAccumulator(d, { ...options, engine: createJsMatMulEngine() });
    await viaOrt.add(x32.subarray(0, 120 * d), 120, mask.slice(0, 120));
    await viaOrt.add(x32.subarray(120 * d), tokens - 120, mask.slice(120));
    await viaJs.add(x32, tokens, mask);
    const [a, b] = [await viaOrt.finalize(), await viaJs.finalize()];
    const expected = hessianOf(
      Float64Array.from(kept, (v) => Math.fround(v)),
      n,
      d,
    );
    // ≤ 64 float32 products summed in float32 per chunk entry: well inside 64·2⁻²⁴ ≈ 4e-6 relative.
    expect(maxAbsDiff(a.hessian, expected)).toBeLessThan(4e-6 * maxAbs(expected));
    expect(maxAbsDiff(a.hessian, b.hessian)).toBeLessThan(4e-6 * maxAbs(expected));
    expect(a.tokens).toBe(n);
    expect(Array.from(a.mean)).toEqual(Array.from(b.mean));
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) expect(a.hessian[i * d + j]).toBe(a.hessian[j * d + i]);
  });

  it('float64 chunk products: H to float64 rounding', async () => {
    const acc = new HessianAccumulator(d, { engine: ort, precision: 'float64', chunkTokens: 50, tileSize: 12 });
    await acc.add(x, tokens, mask);
    const stats = await acc.finalize();
    const expected = hessianOf(kept, n, d);
    expect(maxAbsDiff(stats.hessian, expected)).toBeLessThan(1e-13 * maxAbs(expected));
  });
});

describe('obsSweep with the onnxruntime engine', () => {
  it('group size 1 (lazy flushes, Gram score updates): same as the JS engine and the oracle', async () => {
    const [rows, cols, tokens] = [6, 48, 160];
    const x = correlatedTokens(tokens, cols, 22);
    const problem = problemOf(x, tokens, rows, cols, 23);
    const levels = [48, 41, 30, 17, 9, 3, 1, 0];
    // blockSize 16: the Cholesky inverse of H runs its panels and trailing updates through the engine too.
    const common = { levels, lazyBlock: 6, blockSize: 16 };
    const viaOrt = await obsSweep(problem, { ...common, engine: ort }); // non-'js' engine: Gram mode by default
    const viaJs = await obsSweep(problem, { ...common, engine: createJsMatMulEngine(), scoreUpdate: 'matvec' });
    checkSameAs(viaOrt, viaJs);
    checkOracle(problem, x, tokens, viaOrt);
  });

  it('group size 4 (per-group GEMMs): same as the JS engine and the oracle', async () => {
    const [rows, cols, tokens] = [5, 32, 120];
    const x = correlatedTokens(tokens, cols, 24);
    const problem = problemOf(x, tokens, rows, cols, 25);
    const common = { levels: [8, 7, 5, 2, 1, 0], groupSize: 4, blockSize: 12 };
    const viaOrt = await obsSweep(problem, { ...common, engine: ort });
    const viaJs = await obsSweep(problem, { ...common, engine: createJsMatMulEngine() });
    expect(viaOrt.pinvFallbacks).toBe(0);
    checkSameAs(viaOrt, viaJs);
    checkOracle(problem, x, tokens, viaOrt);
  });
});
