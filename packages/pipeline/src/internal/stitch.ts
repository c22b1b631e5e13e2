// Stitch and shrink: for the level chosen for every module, take the kept structures and the
// OBS-updated output projection from the database, and build the physically smaller model. Q/K/V and
// FC1 rows of removed structures are cut, not updated; the output projection's bias keeps its dense
// value; a module at level 0 is removed (docs site guide: apps/docs/guide/structured-obs.md).

import type { LevelDatabase } from '@ziplm/hessian';
import {
  MODULE_KINDS,
  moduleSize,
  outputProjectionName,
  outputProjectionTensor,
  shrinkWeights,
  structureWidth,
  unitsPerStructure,
  type Checkpoint,
  type KeptStructures,
  type LayerShapes,
} from '@ziplm/models';

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * Builds the pruned model for `shapes` from `checkpoint` and its level database. Returns the model
 * and the kept structure indices (into `checkpoint`'s layers, for the manifest).
 */
export async function stitchModel(
  checkpoint: Checkpoint,
  db: LevelDatabase,
  shapes: LayerShapes,
): Promise<{ checkpoint: Checkpoint; kept: KeptStructures }> {
  const { config } = checkpoint;
  const kept: KeptStructures = { heads: [], neurons: [] };
  // Output projections replaced by their OBS-updated versions: name → hidden × keptCols (solver layout).
  const updated = new Map<string, { weight: Float32Array; rows: number; cols: number }>();
  for (let l = 0; l < config.numLayers; l++) {
    for (const module of MODULE_KINDS) {
      const current = moduleSize(config, l, module);
      const target = moduleSize(shapes, l, module);
      if (target > current) throw new RangeError(`stitchModel: layer ${l} ${module} cannot grow from ${current} to ${target}`);
      let indices: number[];
      if (target === 0) indices = [];
      else if (target === current) indices = range(current);
      else {
        // The database counts the solver's structures: for LLaMA attention, key/value groups of `units` heads.
        const units = unitsPerStructure(config, module);
        const level = await db.readLevel(l, module, target / units);
        indices = [...level.keptIndices].flatMap((s) => range(units).map((i) => s * units + i));
        for (let i = 1; i < indices.length; i++) {
          if (!(indices[i]! > indices[i - 1]!))
            throw new Error(`internal: database kept indices of layer ${l} ${module} are not increasing`);
        }
        updated.set(outputProjectionName(config, l, module), {
          weight: level.weight,
          rows: config.hiddenSize,
          cols: (target / units) * structureWidth(config, module),
        });
      }
      (module === 'attention' ? kept.heads : kept.neurons).push(indices);
    }
  }
  const shrunk = shrinkWeights(checkpoint, kept);
  const weights = new Map(shrunk.weights);
  for (const [name, u] of updated) {
    const key = `${name}.weight`;
    const tensor = outputProjectionTensor(config, u.weight, u.rows, u.cols);
    const existing = weights.get(key);
    if (!existing || existing.shape.join() !== tensor.shape.join()) {
      throw new Error(
        `internal: stitched ${key} has shape [${tensor.shape.join(', ')}], the shrunk model expects [${existing?.shape.join(', ')}]`,
      );
    }
    weights.set(key, tensor);
  }
  return { checkpoint: { config: shrunk.config, weights }, kept };
}
