// Physically removing pruned structures (guide/structured-obs.md, ZipLM reference `shrink`).
//
// A structure is an attention head (a group of headDim consecutive features) or an FFN neuron.
// Keeping a set of them slices the weight matrices the way Hugging Face's prune_linear_layer /
// prune_conv1d_layer do (`index` = what is kept, in increasing order):
//
// | model | structure | rows/columns kept                                 | bias                           |
// |-------|-----------|---------------------------------------------------|--------------------------------|
// | BERT  | head      | Q, K, V weight rows (Linear [out, in], dim 0)     | Q, K, V bias entries           |
// |       |           | attention.output.dense columns (dim 1)            | kept whole                     |
// | BERT  | neuron    | intermediate.dense (FC1) rows                     | FC1 bias entries               |
// |       |           | output.dense (FC2) columns                        | kept whole                     |
// | GPT2  | head      | c_attn columns at i, i+split, i+2·split (dim 1)   | c_attn bias entries            |
// |       |           | attn.c_proj rows (Conv1D [in, out], dim 0)        | kept whole                     |
// | GPT2  | neuron    | mlp.c_fc columns                                  | c_fc bias entries              |
// |       |           | mlp.c_proj rows                                   | kept whole                     |
// | LLaMA | KV group  | q_proj rows of its g query heads, k_proj/v_proj   | (no biases)                    |
// |       |           | rows of its key/value head, o_proj columns        |                                |
// | LLaMA | neuron    | gate_proj and up_proj rows, down_proj columns     | (no biases)                    |
//
// LLaMA's `heads` lists are query-head indices like everyone else's, but they must form whole
// key/value groups (query heads j·g … j·g + g − 1 with g = headsPerGroup(config); the pruning rule on
// `LlamaConfig`): a key/value head is kept exactly when its group is.
//
// A module with nothing kept is removed: all its tensors (including its LayerNorm) disappear and
// the config records 0. For GPT2 (pre-LN) that is an exact identity, the same as zero weights
// and zero output bias; likewise for pre-RMSNorm LLaMA. For BERT (post-LN) it is NOT: a removed module skips its LayerNorm,
// while zero weights would still compute LN(0 + h) (guide/structured-obs.md, pitfall 8).

import type { ModelConfig } from './config.js';
import { headDim, headsPerGroup, withLayerShapes } from './config.js';
import { ModelsError } from './errors.js';
import type { Checkpoint, Tensor32, WeightMap } from './weights.js';
import { bertLayerNames, expectedShapes, gpt2LayerNames, llamaLayerNames } from './weights.js';

/** The structures to keep, per layer, as indices into the checkpoint's CURRENT layer shape. */
export interface KeptStructures {
  /**
   * heads[l]: kept head indices of layer l (0 ≤ i < layerHeads[l]); [] removes the attention module. For
   * LLaMA, query heads forming whole key/value groups (see the file comment).
   */
  heads: number[][];
  /** neurons[l]: kept FFN neuron indices of layer l (0 ≤ i < layerIntermediate[l]); [] removes the FFN. */
  neurons: number[][];
}

/** Validates `keep` against the config and returns sorted, de-duplicated copies. */
function normalise(config: ModelConfig, keep: KeptStructures): KeptStructures {
  for (const [field, lists, sizes] of [
    ['heads', keep.heads, config.layerHeads],
    ['neurons', keep.neurons, config.layerIntermediate],
  ] as const) {
    if (!Array.isArray(lists) || lists.length !== config.numLayers) {
      throw new ModelsError(
        `keep.${field} must have one list per layer (${config.numLayers}), got ${Array.isArray(lists) ? lists.length : typeof lists}`,
      );
    }
    lists.forEach((list, l) => {
      const seen = new Set<number>();
      for (const i of list) {
        if (!Number.isInteger(i) || i < 0 || i >= sizes[l]!) {
          throw new ModelsError(
            `keep.${field}[${l}] contains ${i}, but layer ${l} currently has ${sizes[l]} ${field} (indices are relative to the current shape)`,
          );
        }
        if (seen.has(i)) throw new ModelsError(`keep.${field}[${l}] contains ${i} twice`);
        seen.add(i);
      }
    });
  }
  const sorted = (lists: number[][]) => lists.map((list) => [...list].sort((a, b) => a - b));
  const heads = sorted(keep.heads);
  const group = headsPerGroup(config);
  if (group > 1) {
    heads.forEach((list, l) => {
      const kept = new Set(list);
      for (const h of list) {
        const first = h - (h % group);
        for (let i = first; i < first + group; i++) {
          if (!kept.has(i))
            throw new ModelsError(
              `keep.heads[${l}] keeps query head ${h} but not head ${i} of the same key/value group (heads ${first}…${first + group - 1}): LLaMA keeps or removes whole groups of ${group} query heads, which share one key/value head`,
            );
        }
      }
    });
  }
  return { heads, neurons: sorted(keep.neurons) };
}

/** Key/value heads of whole groups of query heads (each group of `group` consecutive heads listed once, in order). */
function groupsOf(heads: number[], group: number): number[] {
  return heads.filter((h) => h % group === 0).map((h) => h / group);
}

/** Feature indices of the kept heads: head h covers h·headDim … h·headDim + headDim − 1. */
function headFeatures(heads: number[], hd: number, offset = 0): number[] {
  const out: number[] = [];
  for (const h of heads) for (let j = 0; j < hd; j++) out.push(offset + h * hd + j);
  return out;
}

/** Keeps rows `index` of a row-major [rows, cols] tensor (a 1-D tensor is one column). */
function keepRows(t: Tensor32, index: number[]): Tensor32 {
  const cols = t.shape.length === 1 ? 1 : t.shape[1]!;
  const data = new Float32Array(index.length * cols);
  index.forEach((r, i) => {
    data.set(t.data.subarray(r * cols, (r + 1) * cols), i * cols);
  });
  return { shape: t.shape.length === 1 ? [index.length] : [index.length, cols], data };
}

/** Keeps columns `index` of a row-major [rows, cols] tensor. */
function keepColumns(t: Tensor32, index: number[]): Tensor32 {
  const [rows, cols] = t.shape as [number, number];
  const n = index.length;
  const data = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    const dst = r * n;
    for (let i = 0; i < n; i++) data[dst + i] = t.data[src + index[i]!]!;
  }
  return { shape: [rows, n], data };
}

function copy(t: Tensor32): Tensor32 {
  return { shape: [...t.shape], data: Float32Array.from(t.data) };
}

/**
 * Builds the physically smaller model that keeps exactly the given heads and neurons (see the
 * file comment for which rows and columns). The result is a new checkpoint with a new config
 * (`layerHeads[l] = keep.heads[l].length`, `layerIntermediate[l] = keep.neurons[l].length`);
 * the input is not modified. Kept structures stay in increasing index order.
 * @throws ModelsError when an index is out of range or repeated.
 */
export function shrinkWeights<C extends ModelConfig>(checkpoint: Checkpoint<C>, keep: KeptStructures): Checkpoint<C> {
  const { config, weights } = checkpoint;
  const k = normalise(config, keep);
  const hd = headDim(config);
  const next = withLayerShapes(
    config,
    k.heads.map((h) => h.length),
    k.neurons.map((n) => n.length),
  );
  const sliced: WeightMap = new Map();
  const get = (name: string): Tensor32 => {
    const t = weights.get(name);
    if (!t) throw new ModelsError(`shrinkWeights: the checkpoint has no tensor "${name}"`);
    return t;
  };
  for (let l = 0; l < config.numLayers; l++) {
    const heads = k.heads[l]!;
    const neurons = k.neurons[l]!;
    if (config.modelType === 'bert') {
      const n = bertLayerNames(l);
      if (heads.length > 0) {
        const index = headFeatures(heads, hd);
        for (const p of [n.query, n.key, n.value]) {
          sliced.set(`${p}.weight`, keepRows(get(`${p}.weight`), index));
          sliced.set(`${p}.bias`, keepRows(get(`${p}.bias`), index));
        }
        sliced.set(`${n.attnOut}.weight`, keepColumns(get(`${n.attnOut}.weight`), index));
      }
      if (neurons.length > 0) {
        sliced.set(`${n.ffnIn}.weight`, keepRows(get(`${n.ffnIn}.weight`), neurons));
        sliced.set(`${n.ffnIn}.bias`, keepRows(get(`${n.ffnIn}.bias`), neurons));
        sliced.set(`${n.ffnOut}.weight`, keepColumns(get(`${n.ffnOut}.weight`), neurons));
      }
    } else if (config.modelType === 'llama') {
      const n = llamaLayerNames(l);
      if (heads.length > 0) {
        const queries = headFeatures(heads, hd);
        const keyValues = headFeatures(groupsOf(heads, headsPerGroup(config)), hd);
        sliced.set(`${n.query}.weight`, keepRows(get(`${n.query}.weight`), queries));
        sliced.set(`${n.key}.weight`, keepRows(get(`${n.key}.weight`), keyValues));
        sliced.set(`${n.value}.weight`, keepRows(get(`${n.value}.weight`), keyValues));
        sliced.set(`${n.attnOut}.weight`, keepColumns(get(`${n.attnOut}.weight`), queries));
      }
      if (neurons.length > 0) {
        sliced.set(`${n.gate}.weight`, keepRows(get(`${n.gate}.weight`), neurons));
        sliced.set(`${n.up}.weight`, keepRows(get(`${n.up}.weight`), neurons));
        sliced.set(`${n.ffnOut}.weight`, keepColumns(get(`${n.ffnOut}.weight`), neurons));
      }
    } else {
      const n = gpt2LayerNames(l);
      if (heads.length > 0) {
        // c_attn is Q | K | V along its output axis, each `split` = current heads · headDim wide.
        const split = config.layerHeads[l]! * hd;
        const index = [...headFeatures(heads, hd), ...headFeatures(heads, hd, split), ...headFeatures(heads, hd, 2 * split)];
        sliced.set(`${n.qkv}.weight`, keepColumns(get(`${n.qkv}.weight`), index));
        sliced.set(`${n.qkv}.bias`, keepRows(get(`${n.qkv}.bias`), index));
        sliced.set(`${n.attnOut}.weight`, keepRows(get(`${n.attnOut}.weight`), headFeatures(heads, hd)));
      }
      if (neurons.length > 0) {
        sliced.set(`${n.ffnIn}.weight`, keepColumns(get(`${n.ffnIn}.weight`), neurons));
        sliced.set(`${n.ffnIn}.bias`, keepRows(get(`${n.ffnIn}.bias`), neurons));
        sliced.set(`${n.ffnOut}.weight`, keepRows(get(`${n.ffnOut}.weight`), neurons));
      }
    }
  }
  // Everything the new config needs and that was not sliced (embeddings, LayerNorms, output
  // biases of kept modules, heads) is copied unchanged; tensors of removed modules are dropped.
  const out: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(next)) {
    const t = sliced.get(name) ?? copy(get(name));
    if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
      throw new ModelsError(
        `shrinkWeights: "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] (checkpoint does not match its config?)`,
      );
    }
    out.set(name, t);
  }
  return { config: next, weights: out };
}

/** Sets rows `index` of a [rows, cols] (or 1-D) tensor to zero, in place. */
function zeroRows(t: Tensor32, index: number[]): void {
  const cols = t.shape.length === 1 ? 1 : t.shape[1]!;
  for (const r of index) t.data.fill(0, r * cols, (r + 1) * cols);
}

/** Sets columns `index` of a [rows, cols] tensor to zero, in place. */
function zeroColumns(t: Tensor32, index: number[]): void {
  const [rows, cols] = t.shape as [number, number];
  for (let r = 0; r < rows; r++) for (const c of index) t.data[r * cols + c] = 0;
}

function complement(kept: number[], size: number): number[] {
  const set = new Set(kept);
  return Array.from({ length: size }, (_, i) => i).filter((i) => !set.has(i));
}

/**
 * The same model (same config and shapes) with every structure NOT in `keep` zeroed: the rows and
 * columns `shrinkWeights` would cut are set to 0, and when a module keeps nothing its output bias
 * is zeroed too (ZipLM's stitched level "1.0000" zeroes it; guide/structured-obs.md). Outputs equal
 * `shrinkWeights` up to float rounding, except for fully removed BERT modules (post-LN: the
 * shrunk model skips the LayerNorm, the zeroed one computes LN(0 + h)).
 */
export function zeroStructures<C extends ModelConfig>(checkpoint: Checkpoint<C>, keep: KeptStructures): Checkpoint<C> {
  const { config } = checkpoint;
  const k = normalise(config, keep);
  const hd = headDim(config);
  const weights: WeightMap = new Map();
  for (const [name, t] of checkpoint.weights) weights.set(name, copy(t));
  const get = (name: string): Tensor32 => {
    const t = weights.get(name);
    if (!t) throw new ModelsError(`zeroStructures: the checkpoint has no tensor "${name}"`);
    return t;
  };
  for (let l = 0; l < config.numLayers; l++) {
    const removedHeads = complement(k.heads[l]!, config.layerHeads[l]!);
    const removedNeurons = complement(k.neurons[l]!, config.layerIntermediate[l]!);
    const attentionGone = k.heads[l]!.length === 0 && config.layerHeads[l]! > 0;
    const ffnGone = k.neurons[l]!.length === 0 && config.layerIntermediate[l]! > 0;
    if (config.modelType === 'bert') {
      const n = bertLayerNames(l);
      if (removedHeads.length > 0) {
        const index = headFeatures(removedHeads, hd);
        for (const p of [n.query, n.key, n.value]) {
          zeroRows(get(`${p}.weight`), index);
          zeroRows(get(`${p}.bias`), index);
        }
        zeroColumns(get(`${n.attnOut}.weight`), index);
        if (attentionGone) get(`${n.attnOut}.bias`).data.fill(0);
      }
      if (removedNeurons.length > 0) {
        zeroRows(get(`${n.ffnIn}.weight`), removedNeurons);
        zeroRows(get(`${n.ffnIn}.bias`), removedNeurons);
        zeroColumns(get(`${n.ffnOut}.weight`), removedNeurons);
        if (ffnGone) get(`${n.ffnOut}.bias`).data.fill(0);
      }
    } else if (config.modelType === 'llama') {
      // No biases: zero rows and columns are the whole story (and a fully zeroed module is the identity).
      const n = llamaLayerNames(l);
      if (removedHeads.length > 0) {
        const queries = headFeatures(removedHeads, hd);
        const keyValues = headFeatures(groupsOf(removedHeads, headsPerGroup(config)), hd);
        zeroRows(get(`${n.query}.weight`), queries);
        zeroRows(get(`${n.key}.weight`), keyValues);
        zeroRows(get(`${n.value}.weight`), keyValues);
        zeroColumns(get(`${n.attnOut}.weight`), queries);
      }
      if (removedNeurons.length > 0) {
        zeroRows(get(`${n.gate}.weight`), removedNeurons);
        zeroRows(get(`${n.up}.weight`), removedNeurons);
        zeroColumns(get(`${n.ffnOut}.weight`), removedNeurons);
      }
    } else {
      const n = gpt2LayerNames(l);
      if (removedHeads.length > 0) {
        const split = config.layerHeads[l]! * hd;
        const index = [
          ...headFeatures(removedHeads, hd),
          ...headFeatures(removedHeads, hd, split),
          ...headFeatures(removedHeads, hd, 2 * split),
        ];
        zeroColumns(get(`${n.qkv}.weight`), index);
        zeroRows(get(`${n.qkv}.bias`), index);
        zeroRows(get(`${n.attnOut}.weight`), headFeatures(removedHeads, hd));
        if (attentionGone) get(`${n.attnOut}.bias`).data.fill(0);
      }
      if (removedNeurons.length > 0) {
        zeroColumns(get(`${n.ffnIn}.weight`), removedNeurons);
        zeroRows(get(`${n.ffnIn}.bias`), removedNeurons);
        zeroRows(get(`${n.ffnOut}.weight`), removedNeurons);
        if (ffnGone) get(`${n.ffnOut}.bias`).data.fill(0);
      }
    }
  }
  return { config, weights };
}

/**
 * The structures that are not exactly zero, the way the ZipLM reference's `shrink` detects them:
 * a head is pruned when all its input columns of the attention output projection are 0 (BERT
 * `attention.output.dense` columns, GPT2 `attn.c_proj` rows); a neuron when its FC2 column
 * (BERT `output.dense`) / `mlp.c_proj` row (GPT2) is 0. LLaMA (o_proj and down_proj columns) keeps a whole
 * key/value group when any of its query heads is not zero. Feed the result to `shrinkWeights`.
 */
export function findKeptStructures(checkpoint: Checkpoint): KeptStructures {
  const { config, weights } = checkpoint;
  const hd = headDim(config);
  const heads: number[][] = [];
  const neurons: number[][] = [];
  const need = (name: string): Tensor32 => {
    const t = weights.get(name);
    if (!t) throw new ModelsError(`findKeptStructures: the checkpoint has no tensor "${name}"`);
    return t;
  };
  // For BERT the structure's inputs are columns of an [out, in] weight; for GPT2 rows of [in, out].
  const nonZeroInputs = (t: Tensor32, inputsAreColumns: boolean): boolean[] => {
    const [rows, cols] = t.shape as [number, number];
    const inputs = inputsAreColumns ? cols : rows;
    const alive = new Array<boolean>(inputs).fill(false);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        if (t.data[r * cols + c] !== 0) alive[inputsAreColumns ? c : r] = true;
      }
    }
    return alive;
  };
  const group = headsPerGroup(config);
  for (let l = 0; l < config.numLayers; l++) {
    // BERT's and LLaMA's inputs are columns ([out, in]), GPT2's rows ([in, out]).
    const inputsAreColumns = config.modelType !== 'gpt2';
    const names = config.modelType === 'bert' ? bertLayerNames(l) : config.modelType === 'gpt2' ? gpt2LayerNames(l) : llamaLayerNames(l);
    const h: number[] = [];
    if (config.layerHeads[l]! > 0) {
      const alive = nonZeroInputs(need(`${names.attnOut}.weight`), inputsAreColumns);
      // A structure is a group of `group` heads (one head except for LLaMA): kept when any of its columns is non-zero.
      const width = group * hd;
      for (let s = 0; s < config.layerHeads[l]! / group; s++) {
        if (alive.slice(s * width, (s + 1) * width).some(Boolean)) for (let i = 0; i < group; i++) h.push(s * group + i);
      }
    }
    const m: number[] = [];
    if (config.layerIntermediate[l]! > 0) {
      const alive = nonZeroInputs(need(`${names.ffnOut}.weight`), inputsAreColumns);
      alive.forEach((a, i) => {
        if (a) m.push(i);
      });
    }
    heads.push(h);
    neurons.push(m);
  }
  return { heads, neurons };
}
