// Stitch and shrink (method doc §1 step 5): for the level chosen for every module, take the kept
// structures and the OBS-updated output projection from the database, and build the physically
// smaller model. Q/K/V and FC1 rows of removed structures are cut, not updated (method doc §3.1);
// the output projection's bias keeps its dense value; a module at level 0 is removed.

import { linearToConv1d } from '@ziplm/hessian';
import { headDim, shrinkWeights, type Checkpoint, type Tensor32 } from '@ziplm/models';
import type { LevelDatabase } from './database.js';
import { outputProjection } from './database.js';

/** Kept heads and neurons per layer (indices into the model the database was built on). */
export interface KeptStructures {
  heads: number[][];
  neurons: number[][];
}

/** The per-layer sizes to stitch. */
export interface LayerShapes {
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Builds the pruned model for `shapes` from `checkpoint` and its level database. Returns the model
 * and the kept structure indices (for the manifest).
 */
export async function stitchModel(checkpoint: Checkpoint, db: LevelDatabase, shapes: LayerShapes): Promise<{ checkpoint: Checkpoint; kept: KeptStructures }> {
  const { config } = checkpoint;
  const kept: KeptStructures = { heads: [], neurons: [] };
  // Output projections replaced by their OBS-updated versions: name → rows × keptCols (solver layout).
  const updated = new Map<string, { weight: Float32Array; rows: number; cols: number }>();
  const hd = headDim(config);
  for (let l = 0; l < config.numLayers; l++) {
    for (const module of ['attention', 'ffn'] as const) {
      const current = module === 'attention' ? config.layerHeads[l]! : config.layerIntermediate[l]!;
      const target = module === 'attention' ? shapes.layerHeads[l]! : shapes.layerIntermediate[l]!;
      if (target > current) throw new RangeError(`stitchModel: layer ${l} ${module} cannot grow from ${current} to ${target}`);
      let indices: number[];
      if (target === 0) indices = [];
      else if (target === current) indices = range(current);
      else {
        const level = await db.readLevel(l, module, target);
        indices = [...level.keptIndices];
        for (let i = 1; i < indices.length; i++) {
          if (!(indices[i]! > indices[i - 1]!)) throw new Error(`internal: database kept indices of layer ${l} ${module} are not increasing`);
        }
        const p = outputProjection(checkpoint, l, module);
        updated.set(p.name, { weight: level.weight, rows: p.rows, cols: target * (module === 'attention' ? hd : 1) });
      }
      (module === 'attention' ? kept.heads : kept.neurons).push(indices);
    }
  }
  const shrunk = shrinkWeights(checkpoint, kept);
  const weights = new Map(shrunk.weights);
  for (const [name, u] of updated) {
    const key = `${name}.weight`;
    const tensor: Tensor32 =
      config.modelType === 'bert'
        ? { shape: [u.rows, u.cols], data: u.weight }
        : { shape: [u.cols, u.rows], data: Float32Array.from(linearToConv1d(u.weight, u.rows, u.cols)) };
    const existing = weights.get(key);
    if (!existing || existing.shape.join() !== tensor.shape.join()) {
      throw new Error(`internal: stitched ${key} has shape [${tensor.shape.join(', ')}], the shrunk model expects [${existing?.shape.join(', ')}]`);
    }
    weights.set(key, tensor);
  }
  return { checkpoint: { config: shrunk.config, weights }, kept };
}
