// The prunable structure of BERT, GPT2 and LLaMA, in one place: which modules a layer has, how many
// structures (heads, neurons) each holds, and where a module's output projection lives in a
// checkpoint and in which layout. ZipLM removes the INPUTS of each module's output projection: the
// merged head outputs of the attention output projection (one group of head-size columns per head)
// and the FFN activations feeding FC2 (one column per neuron); see the docs site's guide
// "Structured OBS" (apps/docs/guide/structured-obs.md).
//
// Sizes are counted in heads and neurons everywhere (configs, levels, latency tables, `moduleSize`). The
// unit the solver removes, a structure, is one head or one neuron, except for LLaMA attention, where it
// is a whole key/value group of `headsPerGroup(config)` query heads (the pruning rule stated on
// `LlamaConfig`): `unitsPerStructure` converts between the two.
//
// The solver works in nn.Linear's layout [out, in] (rows = hidden size, columns = the pruned inputs).
// BERT and LLaMA store their projections that way already; GPT2's Conv1D stores [in, out], so its
// weights are transposed on the way to the solver and back (see weights.ts for the layouts).

import { transposed } from '@ziplm/core';
import type { ModelConfig } from './config.js';
import { headDim, headsPerGroup } from './config.js';
import { bertLayerNames, expectedShapes, gpt2LayerNames, llamaLayerNames, type Checkpoint, type Tensor32 } from './weights.js';

/** A prunable module of a transformer layer: multi-head attention or the feed-forward network. */
export type ModuleKind = 'attention' | 'ffn';

/** Both module kinds, in the order a layer computes them. */
export const MODULE_KINDS: readonly ModuleKind[] = Object.freeze(['attention', 'ffn'] as const);

/** Per-layer sizes of a model: heads kept and FFN neurons kept in each layer (0 = module removed). */
export interface LayerShapes {
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
}

/** A module that still exists in a model. */
export interface PrunableModule {
  readonly layer: number;
  readonly module: ModuleKind;
  /** Heads (attention) or neurons (FFN) it holds. */
  readonly size: number;
  /** Structures the solver sees: size / unitsPerStructure (LLaMA attention: key/value groups; else = size). */
  readonly structures: number;
  /** Input columns of its output projection: structures × structureWidth (= heads × head size, or neurons). */
  readonly width: number;
}

/**
 * Heads or neurons in one structure, the unit the solver keeps or removes: `headsPerGroup(config)` for
 * LLaMA attention (a key/value head goes only with every query head that shares it), 1 otherwise.
 */
export function unitsPerStructure(config: ModelConfig, module: ModuleKind): number {
  return module === 'attention' ? headsPerGroup(config) : 1;
}

/**
 * Columns of the output projection that one structure owns: the head size for attention (a whole
 * key/value group, headsPerGroup · head size, for LLaMA), 1 for an FFN neuron.
 */
export function structureWidth(config: ModelConfig, module: ModuleKind): number {
  return module === 'attention' ? unitsPerStructure(config, module) * headDim(config) : 1;
}

/** Structures of `module` in `layer`: its heads or its FFN neurons (0 when the module was removed). */
export function moduleSize(shapes: LayerShapes, layer: number, module: ModuleKind): number {
  const sizes = module === 'attention' ? shapes.layerHeads : shapes.layerIntermediate;
  const size = sizes[layer];
  if (size === undefined) throw new RangeError(`moduleSize: layer ${layer} is outside the model's ${sizes.length} layers`);
  return size;
}

/** The modules of a model that still exist (size > 0), in layer order, attention before FFN. */
export function prunableModules(config: ModelConfig): PrunableModule[] {
  const out: PrunableModule[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of MODULE_KINDS) {
      const size = moduleSize(config, layer, module);
      if (size === 0) continue;
      const structures = size / unitsPerStructure(config, module);
      out.push({ layer, module, size, structures, width: structures * structureWidth(config, module) });
    }
  }
  return out;
}

/** A module's output projection as the solver sees it: `weight` is rows × cols, row-major, columns = the pruned inputs. */
export interface OutputProjection {
  readonly weight: Float32Array;
  /** The hidden size. */
  readonly rows: number;
  /** The module's width (heads × head size, or neurons). */
  readonly cols: number;
  /** The output bias (rows); zeros for LLaMA, whose projections have none. */
  readonly bias: Float32Array;
  /** Parameter prefix in the checkpoint: the weight is `<name>.weight`, the bias (BERT, GPT2) `<name>.bias`. */
  readonly name: string;
}

/** Parameter prefix of a module's output projection (attention output dense / c_proj / o_proj, FC2 / down_proj). */
export function outputProjectionName(config: ModelConfig, layer: number, module: ModuleKind): string {
  const names =
    config.modelType === 'bert' ? bertLayerNames(layer) : config.modelType === 'gpt2' ? gpt2LayerNames(layer) : llamaLayerNames(layer);
  return module === 'attention' ? names.attnOut : names.ffnOut;
}

function requireTensor(checkpoint: Checkpoint, name: string): Tensor32 {
  const tensor = checkpoint.weights.get(name);
  if (!tensor) throw new RangeError(`outputProjection: the checkpoint has no ${name}`);
  return tensor;
}

/**
 * The output projection of `module` in `layer`, in the solver's layout (a copy for GPT2, whose
 * Conv1D stores the transpose; BERT's and LLaMA's own array otherwise, not to be mutated).
 */
export function outputProjection(checkpoint: Checkpoint, layer: number, module: ModuleKind): OutputProjection {
  const { config } = checkpoint;
  const rows = config.hiddenSize;
  const cols = (moduleSize(config, layer, module) / unitsPerStructure(config, module)) * structureWidth(config, module);
  const name = outputProjectionName(config, layer, module);
  const stored = requireTensor(checkpoint, `${name}.weight`).data;
  // LLaMA's projections have no bias: a zero one leaves the solver's output energy what it is.
  const bias = config.modelType === 'llama' ? new Float32Array(rows) : requireTensor(checkpoint, `${name}.bias`).data;
  if (stored.length !== rows * cols) {
    throw new RangeError(`outputProjection: ${name}.weight holds ${stored.length} values, the config gives ${rows}×${cols}`);
  }
  if (config.modelType !== 'gpt2') return { weight: stored, rows, cols, bias, name };
  // Conv1D [in = cols, out = rows] → [rows, cols].
  return { weight: transposed(stored, cols, rows), rows, cols, bias, name };
}

/**
 * The checkpoint tensor of an output projection given in the solver's layout [rows, cols]: the
 * inverse of {@link outputProjection} (BERT and LLaMA keep the array, GPT2's Conv1D gets the transpose).
 */
export function outputProjectionTensor(config: ModelConfig, weight: Float32Array, rows: number, cols: number): Tensor32 {
  if (weight.length !== rows * cols) {
    throw new RangeError(`outputProjectionTensor: weight holds ${weight.length} values, expected ${rows}×${cols}`);
  }
  if (config.modelType !== 'gpt2') return { shape: [rows, cols], data: weight };
  return { shape: [cols, rows], data: transposed(weight, rows, cols) };
}

function countParameters(shapes: Map<string, number[]>): number {
  let n = 0;
  for (const shape of shapes.values()) n += shape.reduce((a, b) => a * b, 1);
  return n;
}

/**
 * Parameters of the transformer layers only (embeddings, final norm, pooler and heads excluded), as
 * in the paper's Table 6. Computed from the parameter shapes: every parameter of a layer belongs to
 * one of its two modules, so it is the model's count minus that of the same model with every module removed.
 */
export function layerParameterCount(config: ModelConfig): number {
  const none = new Array<number>(config.numLayers).fill(0);
  const withoutModules = { ...config, layerHeads: none, layerIntermediate: none };
  return countParameters(expectedShapes(config)) - countParameters(expectedShapes(withoutModules));
}
