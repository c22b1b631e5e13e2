// Tutorial 6: use one package on its own. The structured OBS solver of @ziplm/hessian on one weight
// matrix: no model, no onnxruntime, no tfjs, just arrays. The page (tutorials/obs-solver.md) shows
// the regions of this file; test/e2e/obs-solver.test.ts runs it.

// #region imports
import { pathToFileURL } from 'node:url';
import { seededRandom } from '@ziplm/core';
import { HessianAccumulator, attentionLevels, ffnLevels, magnitudeSweep, obsSweep, type SweepResult } from '@ziplm/hessian';
// #endregion imports

// #region data
/** Uniform numbers in [-1, 1) from a seeded generator, so the tutorial prints the same numbers every time. */
function random(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => uniform() * 2 - 1;
}

/**
 * A linear layer y = W·x + b with `cols` inputs and calibration inputs that are correlated, as real
 * activations are: every input is a ReLU of a mix of `latent` hidden factors, so inputs partly
 * duplicate each other and removing one can be compensated by the others.
 */
export function makeLayer(rows: number, cols: number, tokens: number, latent: number, seed = 1) {
  const rand = random(seed);
  const mixing = Float64Array.from({ length: latent * cols }, () => rand());
  const inputs = new Float32Array(tokens * cols); // tokens × cols, row-major
  for (let t = 0; t < tokens; t++) {
    const z = Array.from({ length: latent }, () => rand());
    for (let c = 0; c < cols; c++) {
      let v = 0;
      for (let k = 0; k < latent; k++) v += z[k]! * mixing[k * cols + c]!;
      inputs[t * cols + c] = Math.max(0, v + 0.1 * rand());
    }
  }
  const weight = Float32Array.from({ length: rows * cols }, () => 0.1 * rand()); // rows × cols, like nn.Linear [out, in]
  const bias = Float32Array.from({ length: rows }, () => 0.1 * rand());
  return { rows, cols, tokens, inputs, weight, bias };
}

/** A layer with its calibration inputs, as makeLayer returns it. */
export type Layer = ReturnType<typeof makeLayer>;
// #endregion data

// #region hessian
/** H = (2/n)·Σ x·xᵀ over the calibration tokens (float64), and the input mean, streamed in batches. */
export async function layerHessian(layer: Layer, batch = 256) {
  const accumulator = new HessianAccumulator(layer.cols);
  for (let t = 0; t < layer.tokens; t += batch) {
    const n = Math.min(batch, layer.tokens - t);
    await accumulator.add(layer.inputs.subarray(t * layer.cols, (t + n) * layer.cols), n);
  }
  return accumulator.finalize(); // { hessian, mean, tokens }
}
// #endregion hessian

// #region sweep
/** Structured OBS and the magnitude baseline, snapshotting at the same kept sizes. */
export async function pruneNeurons(layer: Layer) {
  const { hessian, mean } = await layerHessian(layer);
  const problem = { weight: layer.weight, rows: layer.rows, cols: layer.cols, hessian, mean, bias: layer.bias };
  const levels = ffnLevels(layer.cols); // the paper's geometric grid: cols, 0.9·cols, 0.81·cols, …, then 0
  const obs = await obsSweep(problem, { levels, groupSize: 1 }); // FFN neurons: one input column each
  const magnitude = await magnitudeSweep(problem, { levels, groupSize: 1 }); // smallest weight norm first, no update
  for (const [i, s] of obs.snapshots.entries()) {
    console.log(
      `keep ${String(s.kept).padStart(3)}: OBS error ${s.error.toFixed(4)}, magnitude error ${magnitude.snapshots[i]!.error.toFixed(4)}`,
    );
  }
  return { obs, magnitude };
}
// #endregion sweep

// #region heads
/** Attention heads are groups of head-size consecutive input columns of the output projection. */
export async function pruneHeads(layer: Layer, numHeads: number): Promise<SweepResult> {
  const { hessian, mean } = await layerHessian(layer);
  const problem = { weight: layer.weight, rows: layer.rows, cols: layer.cols, hessian, mean, bias: layer.bias };
  return obsSweep(problem, { levels: attentionLevels(numHeads), groupSize: layer.cols / numHeads });
}
// #endregion heads

// #region check
/**
 * What `error` means, recomputed from the data: run the layer with the snapshot's kept columns and
 * OBS-updated weights on every calibration token and compare with the dense output.
 */
export function relativeOutputError(layer: Layer, snapshot: SweepResult['snapshots'][number], groupSize = 1): number {
  const { rows, cols, tokens, inputs, weight, bias } = layer;
  const keptCols: number[] = [];
  for (const g of snapshot.keptIndices) for (let j = 0; j < groupSize; j++) keptCols.push(g * groupSize + j);
  let diff = 0;
  let energy = 0;
  for (let t = 0; t < tokens; t++) {
    const x = inputs.subarray(t * cols, (t + 1) * cols);
    for (let r = 0; r < rows; r++) {
      let dense = bias[r]!;
      for (let c = 0; c < cols; c++) dense += weight[r * cols + c]! * x[c]!;
      let pruned = snapshot.kept === 0 ? 0 : bias[r]!; // a removed module drops its bias too
      for (let k = 0; k < keptCols.length; k++) pruned += snapshot.weight[r * keptCols.length + k]! * x[keptCols[k]!]!;
      diff += (pruned - dense) ** 2;
      energy += dense ** 2;
    }
  }
  return diff / energy;
}
// #endregion check

// #region usage
/** The whole tutorial: a 64 × 256 layer, 2048 calibration tokens. The test runs the same steps on a smaller layer. */
export async function example(): Promise<void> {
  const layer = makeLayer(64, 256, 2048, 32);
  const { obs } = await pruneNeurons(layer);
  const half = obs.snapshots.find((s) => s.kept <= 128)!;
  console.log(`kept ${half.kept}: reported ${half.error.toFixed(6)}, recomputed ${relativeOutputError(layer, half).toFixed(6)}`);
  const heads = await pruneHeads(layer, 4); // 4 heads of 64 columns
  console.log(heads.snapshots.map((s) => `${s.kept} heads: ${s.error.toFixed(4)}`).join(', '));
}

// Run as a script (`pnpm exec tsx --conditions=@ziplm/source obs-solver.ts`); importing it runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await example();
// #endregion usage
