// Stitch + shrink against the same model with the OBS weights written back at full size and the
// removed structures zeroed: both must compute the same function (GPT2 exactly, including removed
// modules; BERT for partial removal, since post-LN module removal also skips the LayerNorm).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJsMatMulEngine } from '@ziplm/hessian';
import { exportModelToOnnx, onnxFeeds, ONNX_NAMES, outputProjection, padBatch, type Checkpoint, type Tensor32 } from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { describe, expect, it } from 'vitest';
import { collectHessians } from '../src/stages/calibrate.js';
import { buildLevelDatabase } from '../src/stages/database.js';
import { stitchModel } from '../src/internal/stitch.js';
import { randomItems, tinyBert, tinyGpt2 } from './pipeline-helpers.js';

const ort = await loadOrt();
const engine = createJsMatMulEngine();

async function logits(checkpoint: Checkpoint, items = randomItems(6, 30, 99)): Promise<Float32Array> {
  const session = await createSession(exportModelToOnnx(checkpoint));
  const out = await session.run(onnxFeeds(ort, checkpoint.config, padBatch(items, { padId: 0 })) as never);
  await session.release();
  return out[ONNX_NAMES.logits]!.data as Float32Array;
}

/** The dense-shaped model with each chosen level's OBS weights scattered back and removed structures zeroed. */
async function zeroedWithObsWeights(
  dense: Checkpoint,
  kept: { heads: number[][]; neurons: number[][] },
  stitched: Checkpoint,
): Promise<Checkpoint> {
  const weights = new Map(dense.weights);
  const hd = dense.config.hiddenSize / dense.config.numHeads;
  for (let l = 0; l < dense.config.numLayers; l++) {
    for (const module of ['attention', 'ffn'] as const) {
      const p = outputProjection(dense, l, module);
      const keptCols =
        module === 'attention' ? kept.heads[l]!.flatMap((h) => Array.from({ length: hd }, (_, i) => h * hd + i)) : kept.neurons[l]!;
      const full = new Float32Array(p.rows * p.cols); // solver layout rows × cols, zeros for removed columns
      if (keptCols.length > 0) {
        const s = outputProjection(stitched, l, module); // rows × kept
        for (let r = 0; r < p.rows; r++)
          keptCols.forEach((c, j) => {
            full[r * p.cols + c] = s.weight[r * s.cols + j]!;
          });
      }
      const tensor: Tensor32 =
        dense.config.modelType === 'bert'
          ? { shape: [p.rows, p.cols], data: full }
          : {
              shape: [p.cols, p.rows],
              data: Float32Array.from({ length: full.length }, (_, i) => full[(i % p.rows) * p.cols + Math.floor(i / p.rows)]!),
            };
      weights.set(`${p.name}.weight`, tensor);
      // A removed module drops its bias too (level 0: the module is gone, guide/structured-obs.md).
      if (keptCols.length === 0) weights.set(`${p.name}.bias`, { shape: [p.rows], data: new Float32Array(p.rows) });
    }
  }
  return { config: dense.config, weights };
}

async function database(dense: Checkpoint) {
  const hessians = await collectHessians(dense, randomItems(40, 30), 0, ort, { engine });
  return buildLevelDatabase(mkdtempSync(join(tmpdir(), 'ziplm-db-')), dense, hessians, { engine, fingerprint: 'test' });
}

describe('stitchModel', () => {
  it('GPT2: the shrunk model equals the zeroed model with OBS weights, removed modules included', async () => {
    const dense = tinyGpt2();
    const db = await database(dense);
    const shapes = { layerHeads: [2, 0], layerIntermediate: [0, 9] };
    const { checkpoint: stitched, kept } = await stitchModel(dense, db, shapes);
    expect(stitched.config.layerHeads).toEqual([2, 0]);
    expect(stitched.config.layerIntermediate).toEqual([0, 9]);
    expect(kept.heads[1]).toEqual([]);
    const a = await logits(stitched);
    const b = await logits(await zeroedWithObsWeights(dense, kept, stitched));
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff).toBeLessThan(1e-4);
  });

  it('BERT: partial removal equals the zeroed model with OBS weights; kept indices are the database level', async () => {
    const dense = tinyBert();
    const db = await database(dense);
    const shapes = { layerHeads: [3, 1], layerIntermediate: [21, 5] };
    const { checkpoint: stitched, kept } = await stitchModel(dense, db, shapes);
    expect((await db.readLevel(1, 'ffn', 5)).keptIndices).toEqual(Int32Array.from(kept.neurons[1]!));
    const a = await logits(stitched);
    const b = await logits(await zeroedWithObsWeights(dense, kept, stitched));
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff).toBeLessThan(1e-4);
    // And the OBS update did change the kept weights (it is not plain shrinking).
    const dense1 = outputProjection(dense, 1, 'ffn');
    const s1 = outputProjection(stitched, 1, 'ffn');
    expect(s1.weight[0]).not.toBeCloseTo(dense1.weight[kept.neurons[1]![0]!]!, 6);
  });

  it('keeps a module unchanged at its current size and refuses to grow one', async () => {
    const dense = tinyBert();
    const db = await database(dense);
    const { checkpoint } = await stitchModel(dense, db, { layerHeads: [4, 4], layerIntermediate: [32, 32] });
    expect(checkpoint.weights.get('bert.encoder.layer.0.output.dense.weight')!.data).toEqual(
      dense.weights.get('bert.encoder.layer.0.output.dense.weight')!.data,
    );
    await expect(stitchModel(tinyBert(), db, { layerHeads: [5, 4], layerIntermediate: [32, 32] })).rejects.toThrow(/cannot grow/);
  });
});

describe('collectHessians', () => {
  it('masks padding: one sequence per batch and padded batches give the same Hessians', async () => {
    const dense = tinyBert();
    const items = randomItems(12, 30);
    const unpadded = await collectHessians(dense, items, 0, ort, { engine, batchSize: 1 });
    const padded = await collectHessians(dense, items, 0, ort, { engine, batchSize: 5 });
    expect([...padded.keys()].sort()).toEqual([...unpadded.keys()].sort());
    for (const [key, a] of unpadded) {
      const b = padded.get(key)!;
      expect(b.tokens).toBe(a.tokens);
      expect(a.tokens).toBe(items.reduce((n, it) => n + it.ids.length, 0));
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < a.hessian.length; i++) {
        diff = Math.max(diff, Math.abs(a.hessian[i]! - b.hessian[i]!));
        scale = Math.max(scale, Math.abs(a.hessian[i]!));
      }
      expect(diff / scale).toBeLessThan(1e-5);
    }
  });
});
