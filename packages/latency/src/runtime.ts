// The runtime model of guide/latency.md "Composing a whole-model runtime":
//   T(model) = (base − prunable) + Σ_layers t_attention(heads_l) + t_ffn(neurons_l)
//   speedup  = reference / T(model), the reference being base in an FP32 table and the dense FP32
//   model in an INT8 one (guide/compound-compression.md)
// The non-prunable rest (embeddings, heads) is constant; each layer's modules contribute their
// table time, a removed module (kept 0) contributes 0.

import type { LayerShapes } from '@ziplm/models';
import { MissingLevelError, SearchError } from './errors.js';
import type { LatencyTable, LevelTime } from './table.js';

/** The table's levels of one module type, kept descending. */
export function tableLevels(table: LatencyTable, module: 'attention' | 'ffn'): readonly LevelTime[] {
  return module === 'attention' ? table.attention : table.ffn;
}

/** Time (ms) one layer's module adds at a kept size; MissingLevelError when the table lacks it. */
export function levelTime(table: LatencyTable, module: 'attention' | 'ffn', kept: number, where = ''): number {
  const levels = tableLevels(table, module);
  const level = levels.find((l) => l.kept === kept);
  if (!level)
    throw new MissingLevelError(
      module,
      kept,
      levels.map((l) => l.kept),
      where,
    );
  return level.time;
}

/**
 * The time every speedup under this table is relative to (ms): the dense model of the table's own
 * precision for FP32, the dense FP32 model (`reference`) for an INT8 table.
 */
export function referenceTime(table: LatencyTable): number {
  return table.reference?.median ?? table.dense.median;
}

/** Time of everything pruning cannot touch: `base − prunable` of the original. */
export function nonPrunableTime(table: LatencyTable): number {
  return table.dense.median - table.prunable;
}

export interface RuntimePrediction {
  /** Predicted time of one forward pass (ms). */
  readonly time: number;
  /** referenceTime(table) / time: over the dense FP32 model for an INT8 table. */
  readonly speedup: number;
  /** The constant part (ms). */
  readonly nonPrunable: number;
  /** Per layer: attention and FFN times (ms). */
  readonly layers: ReadonlyArray<{ readonly attention: number; readonly ffn: number }>;
}

/** Predicted time and speedup of a model with the given per-layer shapes under the table. */
export function predictRuntime(table: LatencyTable, shapes: LayerShapes): RuntimePrediction {
  const L = table.model.numLayers;
  if (shapes.layerHeads.length !== L || shapes.layerIntermediate.length !== L) {
    throw new SearchError(
      `the model has ${shapes.layerHeads.length} attention / ${shapes.layerIntermediate.length} FFN layer shapes, the latency table is for ${L} layers`,
    );
  }
  const rest = nonPrunableTime(table);
  let time = rest;
  const layers: Array<{ attention: number; ffn: number }> = [];
  for (let l = 0; l < L; l++) {
    const attention = levelTime(table, 'attention', shapes.layerHeads[l]!, `layer ${l}`);
    const ffn = levelTime(table, 'ffn', shapes.layerIntermediate[l]!, `layer ${l}`);
    layers.push({ attention, ffn });
    time += attention + ffn;
  }
  return { time, speedup: referenceTime(table) / time, nonPrunable: rest, layers };
}
