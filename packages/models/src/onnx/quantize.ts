// The INT8 ONNX export's public vocabulary: how activations are quantized, the INT8 weights a caller
// may supply (from GPTQ, or any other method), calibration ranges, and the list of linears the export
// quantizes. The graph forms themselves are built in internal/onnx/quantized.ts.

import type { ModelConfig } from '../config.js';
import { headDim, headsPerGroup } from '../config.js';
import { int8WeightOf } from '../internal/onnx/quantized.js';
import type { Checkpoint, WeightMap } from '../weights.js';
import { bertLayerNames, gpt2LayerNames, llamaLayerNames } from '../weights.js';
import { OnnxExportError } from './errors.js';
import type { LinearInputSlot } from './names.js';
import type { ActivationQuantization, ActivationRange, Int8Weight } from './int8-values.js';
import { ONNX_NAMES } from './names.js';

export type { ActivationQuantization, ActivationRange, Int8Weight } from './int8-values.js';

/** `quantize` option of the exports: INT8 weights per output channel, activations per `activations`. */
export interface OnnxQuantizeOptions {
  readonly activations: ActivationQuantization;
  /**
   * By checkpoint weight name (e.g. `bert.encoder.layer.0.attention.self.query.weight`,
   * `transformer.h.0.attn.c_attn.weight`). A quantized linear whose weight is absent here is quantized
   * round-to-nearest per output channel at export time.
   */
  readonly weights?: ReadonlyMap<string, Int8Weight>;
  /**
   * Static mode: the range of each quantized MatMul's input, keyed by the input name from
   * `quantizableLinears`. A whole-model static export throws OnnxExportError naming the first missing
   * one; block exports (random weights, for timing) use a fixed nominal range when absent.
   */
  readonly ranges?: ReadonlyMap<string, ActivationRange>;
}

/** One linear layer the INT8 export quantizes. */
export interface QuantizableLinear {
  /** Checkpoint weight name. */
  readonly weight: string;
  readonly layer: number;
  readonly module: 'attention' | 'ffn';
  /**
   * Graph output name of its input under `matmulInputs` (`ONNX_NAMES.matmulInput`), also the key of its
   * static activation range; shared by linears with the same input (BERT's Q, K and V).
   */
  readonly input: string;
  /** Output features. */
  readonly rows: number;
  /** Input features. */
  readonly cols: number;
  /** How the checkpoint stores it: BERT's and LLaMA's nn.Linear [out, in], GPT2's Conv1D [in, out]. */
  readonly layout: 'out-in' | 'in-out';
}

/**
 * The linears the INT8 export quantizes, in graph order: every kept encoder/decoder layer's attention
 * (BERT Q, K, V and output; GPT2 c_attn and c_proj; LLaMA q/k/v_proj and o_proj) and FFN (FC1, FC2;
 * LLaMA gate_proj and up_proj, which share the input slot 'fc1', and down_proj) projections. Embeddings,
 * the pooler, the classifier, the QA head and GPT2's tied LM head stay FP32. onnxruntime's
 * `quantize_dynamic` would also quantize the head MatMuls; we keep them fp32 because they are a
 * negligible share of the encoder's time at any sequence length (one [d, d] and one [d, labels]
 * product on the [CLS] token, or a [d, 2] one), their outputs are the logits themselves, where an
 * activation quantization step lands unattenuated on the prediction, and the tied LM head is the
 * token embedding table, which the Gather of the embeddings must read in fp32 anyway.
 */
export function quantizableLinears(config: ModelConfig): QuantizableLinear[] {
  const out: QuantizableLinear[] = [];
  const d = config.hiddenSize;
  const hd = headDim(config);
  const layout = config.modelType === 'gpt2' ? 'in-out' : 'out-in';
  for (let layer = 0; layer < config.numLayers; layer++) {
    const width = config.layerHeads[layer]! * hd;
    const neurons = config.layerIntermediate[layer]!;
    const add = (name: string, module: 'attention' | 'ffn', slot: LinearInputSlot, rows: number, cols: number): void => {
      out.push({ weight: `${name}.weight`, layer, module, input: ONNX_NAMES.matmulInput(layer, slot), rows, cols, layout });
    };
    if (config.modelType === 'llama') {
      const n = llamaLayerNames(layer);
      const kvWidth = width / headsPerGroup(config);
      if (width > 0) {
        add(n.query, 'attention', 'qkv', width, d);
        add(n.key, 'attention', 'qkv', kvWidth, d);
        add(n.value, 'attention', 'qkv', kvWidth, d);
        add(n.attnOut, 'attention', 'attention_output', d, width);
      }
      if (neurons > 0) {
        add(n.gate, 'ffn', 'fc1', neurons, d);
        add(n.up, 'ffn', 'fc1', neurons, d);
        add(n.ffnOut, 'ffn', 'fc2', d, neurons);
      }
      continue;
    }
    const n = config.modelType === 'bert' ? bertLayerNames(layer) : gpt2LayerNames(layer);
    if (width > 0) {
      if ('query' in n) for (const name of [n.query, n.key, n.value]) add(name, 'attention', 'qkv', width, d);
      else add(n.qkv, 'attention', 'qkv', 3 * width, d);
      add(n.attnOut, 'attention', 'attention_output', d, width);
    }
    if (neurons > 0) {
      add(n.ffnIn, 'ffn', 'fc1', neurons, d);
      add(n.ffnOut, 'ffn', 'fc2', d, neurons);
    }
  }
  return out;
}

/**
 * The checkpoint with every `quantizableLinears` weight replaced by its dequantized INT8 value q · scale
 * (from `weights`, else round-to-nearest per output channel, exactly as the INT8 export quantizes it),
 * in the checkpoint's own layout; every other tensor is shared. Its fp32 forward is the INT8 model's
 * up to activation quantization: the reference of the parity tests, and a way to evaluate an INT8
 * member's weight error with the fp32 (or tfjs) forward.
 *
 * @throws OnnxExportError when a given INT8 weight does not fit its linear.
 */
export function dequantizedCheckpoint<C extends ModelConfig>(
  checkpoint: Checkpoint<C>,
  weights: ReadonlyMap<string, Int8Weight> = new Map(),
): Checkpoint<C> {
  const what = `dequantizedCheckpoint (${checkpoint.config.modelType})`;
  const out: WeightMap = new Map(checkpoint.weights);
  for (const linear of quantizableLinears(checkpoint.config)) {
    const tensor = checkpoint.weights.get(linear.weight);
    if (tensor === undefined) throw new OnnxExportError(what, `weight "${linear.weight}" is missing from the checkpoint`);
    const { q, scales, rows, cols } = int8WeightOf(linear.weight, tensor, linear.layout, weights, what);
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const value = q[r * cols + c]! * scales[r]!;
        // Back to the checkpoint's layout: [out, in] as is, [in, out] transposed.
        data[linear.layout === 'out-in' ? r * cols + c : c * rows + r] = value;
      }
    }
    out.set(linear.weight, { shape: tensor.shape, data });
  }
  return { config: checkpoint.config, weights: out };
}
