// Weights from an ONNX export (transformers.js / Optimum layout: config.json + onnx/model.onnx), mapped back to
// Hugging Face parameter names by reading the graph, then validated exactly as model.safetensors is
// (checkpoint-tensors.ts: canonical names, expected shapes, finite values, unexpected layer tensors, tied heads).
//
// What a TorchScript export with constant folding (what Optimum runs) stores, and how each is mapped back:
// - Parameters used as they are keep their module path as the initializer name: embedding tables (Gather),
//   biases, LayerNorm/RMSNorm weights, Gemm weights (BERT's pooler and classifier, GPT2's Conv1D layers, whose
//   [in, out] layout Gemm reads directly). The name is the mapping, after removing a wrapper's module prefix
//   (the fixtures export a wrapper module `m`, so names read `m.bert.…`; Optimum's own exports have none).
// - An nn.Linear weight W [out, in] is used as MatMul(x, Wᵀ); constant folding stores Wᵀ [in, out] under an
//   anonymous name (`onnx::MatMul_<n>`). Its parameter is found from the graph, never from the order of the
//   initializers: the MatMul node's name carries the module path (`/bert/encoder/layer.0/attention/self/query/MatMul`
//   is `bert.encoder.layer.0.attention.self.query`), and the Add that follows it takes that module's named bias;
//   when both are there they must agree, and one of them must be. The weight is transposed back to [out, in]
//   (a GPT2 Conv1D weight found this way would keep its [in, out] layout).
// - A tied LM head (GPT2) is folded into a transposed copy of the token embedding under the `lm_head` module
//   path; it is mapped to `lm_head.weight` and the shared validation checks that it equals the embedding bit for
//   bit before dropping it.
// - Constant-folded pieces that are not parameters (LLaMA's RoPE cos/sin, BERT's position_ids, attention-mask
//   constants) are Constant nodes or initializers no Linear or embedding lookup reads as its weight: not mapped.
// A quantized export (dynamic int8: DynamicQuantizeLinear + MatMulInteger, DequantizeLinear'd int8 tables) is
// refused, naming the fp32 file: its weights are rounded, and pruning needs the full-precision ones.

import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { transposed } from '@ziplm/core';
import type { Model, Node, Tensor } from '@ziplm/onnx';
import { decodeModel, OnnxDecodeError } from '@ziplm/onnx';
import type { ModelConfig } from '../config.js';
import { WeightsError } from '../errors.js';
import type { Checkpoint, Tensor32 } from '../weights.js';
import { GPT2_NAMES, canonicalName, expectedShapes } from '../weights.js';
import { assembleCheckpoint, listNames, planCheckpointTensors, type StoredTensorInfo } from './checkpoint-tensors.js';
import { float16BitsToNumber } from './safetensors.js';

/** Where transformers.js and Optimum put the full-precision ONNX export, relative to the model directory. */
export const ONNX_MODEL_FILE = join('onnx', 'model.onnx');

/**
 * Operators that only a quantized graph holds (onnxruntime's `quantize_dynamic` / `quantize_static`, and the
 * block-quantized formats transformers.js publishes as model_q4.onnx / model_bnb4.onnx).
 */
const QUANTIZATION_OPS: ReadonlySet<string> = new Set([
  'DynamicQuantizeLinear',
  'QuantizeLinear',
  'DequantizeLinear',
  'MatMulInteger',
  'QLinearMatMul',
  'ConvInteger',
  'QLinearConv',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'QGemm',
  'QAttention',
  'MatMulNBits',
  'MatMulBnb4',
  'GatherBlockQuantized',
]);

/** A tensor of the file under its Hugging Face name, with how to get its float32 data once validated. */
interface OnnxStoredTensor extends StoredTensorInfo {
  readonly read: () => Tensor32;
}

/** Refuses a quantized export, naming the full-precision file transformers.js keeps beside it. */
function refuseQuantized(model: Model, file: string): void {
  const ops = new Map<string, number>();
  for (const node of model.graph.nodes) if (QUANTIZATION_OPS.has(node.opType)) ops.set(node.opType, (ops.get(node.opType) ?? 0) + 1);
  const integerTensors = model.graph.initializers.filter((t) => t.dataType === 'int8' || t.dataType === 'uint8').length;
  if (ops.size === 0 && integerTensors === 0) return;
  const found = [
    ...[...ops].map(([op, n]) => `${n} ${op}`),
    ...(integerTensors > 0 ? [`${integerTensors} int8/uint8 initializer(s)`] : []),
  ].join(', ');
  const fp32 = join(dirname(file), 'model.onnx');
  const instead =
    basename(file) === 'model.onnx'
      ? 'export the model again without quantization'
      : `load the fp32 export "${fp32}" instead${existsSync(fp32) ? '' : ' (not present here: export it without quantization)'}`;
  throw new WeightsError(
    file,
    `is a quantized ONNX export (${found}); ziplm prunes full-precision weights and int8 ones have lost the precision it needs: ${instead}`,
  );
}

/** float32 data of an initializer that holds a parameter (float16 exports are widened exactly). */
function floatData(tensor: Tensor, name: string, file: string): Float32Array {
  if (tensor.dataType === 'float32') return tensor.data as Float32Array;
  if (tensor.dataType === 'float16' || tensor.dataType === 'float64') {
    const source = tensor.data as Uint16Array | Float64Array;
    const out = new Float32Array(source.length);
    if (tensor.dataType === 'float16') for (let i = 0; i < out.length; i++) out[i] = float16BitsToNumber(source[i]!);
    else out.set(source);
    return out;
  }
  throw new WeightsError(file, `initializer "${name}" has type ${tensor.dataType}; weights must be float32, float16 or float64`);
}

/** Hugging Face parameter names end so; buffers (position_ids, inv_freq) and folded constants (`onnx::MatMul_7`) do not. */
const PARAMETER_NAME = /\.(weight|bias)$/;

/**
 * The module prefix a wrapper added to every parameter name (`m.` in the fixtures: their export wraps the model
 * in a module called `m`; '' for Optimum's own exports): the prefix that, removed, makes the most initializer names
 * parameters of the config. Ties go to the shorter prefix.
 */
function wrapperPrefix(config: ModelConfig, names: readonly string[]): string {
  const parameters = new Set(expectedShapes(config).keys()).add(GPT2_NAMES.lmHead);
  const votes = new Map<string, number>();
  for (const name of names) {
    const parts = name.split('.');
    for (let k = 0; k < parts.length - 1; k++) {
      const canonical = canonicalName(config, parts.slice(k).join('.'));
      if (canonical !== undefined && parameters.has(canonical)) {
        const prefix = k === 0 ? '' : `${parts.slice(0, k).join('.')}.`;
        votes.set(prefix, (votes.get(prefix) ?? 0) + 1);
        break;
      }
    }
  }
  let best = '';
  let bestVotes = 0;
  for (const [prefix, n] of votes) {
    if (n > bestVotes || (n === bestVotes && prefix.length < best.length)) [best, bestVotes] = [prefix, n];
  }
  return best;
}

/** The module path of a TorchScript/Optimum node name: `/m/bert/encoder/layer.0/attention/self/query/MatMul` → `m.bert.encoder.layer.0.attention.self.query`. */
function modulePathOfNode(node: Node): string | undefined {
  const name = node.name;
  if (name === undefined || !name.startsWith('/')) return undefined;
  const parts = name.slice(1).split('/');
  return parts.length < 2 ? undefined : parts.slice(0, -1).join('.');
}

/** GPT2's Conv1D weights are stored [in, out] (y = x W + b); every other Linear is nn.Linear, [out, in]. */
function isConv1dWeight(config: ModelConfig, canonical: string): boolean {
  return config.modelType === 'gpt2' && /^transformer\.h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/.test(canonical);
}

function intAttribute(node: Node, name: string, fallback: number): number {
  const a = node.attributes?.[name];
  return a?.type === 'int' ? Number(a.value) : fallback;
}

function floatAttribute(node: Node, name: string, fallback: number): number {
  const a = node.attributes?.[name];
  return a?.type === 'float' ? a.value : fallback;
}

/**
 * The tensors of a decoded ONNX model under Hugging Face names (see the top of this file), with their shapes as the
 * parameters have them; data is read (and transposed) only when `read` is called.
 */
function onnxStoredTensors(config: ModelConfig, model: Model, file: string): OnnxStoredTensor[] {
  const { graph } = model;
  const parameters = expectedShapes(config);
  const initializers = new Map<string, Tensor>();
  for (const t of graph.initializers) {
    const name = t.name ?? '';
    if (initializers.has(name)) throw new WeightsError(file, `two initializers are named "${name}"`);
    initializers.set(name, t);
  }
  const prefix = wrapperPrefix(
    config,
    [...initializers.keys()].filter((n) => PARAMETER_NAME.test(n)),
  );
  const unprefixed = (path: string) => (prefix !== '' && path.startsWith(prefix) ? path.slice(prefix.length) : path);
  const isNamedParameter = (name: string) => PARAMETER_NAME.test(unprefixed(name));

  const entries: OnnxStoredTensor[] = [];
  for (const [name, tensor] of initializers) {
    if (!isNamedParameter(name)) continue;
    entries.push({
      name: unprefixed(name),
      shape: tensor.dims,
      read: () => ({ shape: [...tensor.dims], data: floatData(tensor, name, file) }),
    });
  }

  // Which node reads each value: the Add after a MatMul holds the Linear's named bias.
  const consumers = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      const list = consumers.get(input);
      if (list === undefined) consumers.set(input, [node]);
      else list.push(node);
    }
  }
  /** The module of a named bias added to `value` (MatMul output) or given to a Gemm, if any. */
  const biasModule = (node: Node): string | undefined => {
    const biasOf = (candidate: string | undefined) =>
      candidate !== undefined && initializers.has(candidate) && /\.bias$/.test(unprefixed(candidate))
        ? unprefixed(candidate).slice(0, -'.bias'.length)
        : undefined;
    if (node.opType === 'Gemm') return biasOf(node.inputs[2]);
    const adds = (consumers.get(node.outputs[0] ?? '') ?? []).filter((n) => n.opType === 'Add');
    for (const add of adds) {
      const module = biasOf(add.inputs.find((i) => i !== node.outputs[0]));
      if (module !== undefined) return module;
    }
    return undefined;
  };

  /** Recovered parameter name → the initializer it came from, to refuse two initializers claiming one parameter. */
  const recovered = new Map<string, string>();
  for (const node of graph.nodes) {
    const isLinear = node.opType === 'MatMul' || node.opType === 'Gemm';
    const weightInput = node.inputs[isLinear ? 1 : 0];
    if (!(isLinear || node.opType === 'Gather') || weightInput === undefined) continue;
    const tensor = initializers.get(weightInput);
    if (tensor === undefined || isNamedParameter(weightInput) || tensor.dims.length !== 2) continue;
    const nodeModule = modulePathOfNode(node);
    const fromName = nodeModule === undefined ? undefined : unprefixed(nodeModule);
    const where = `initializer "${weightInput}" read by ${node.opType} node "${node.name ?? '(unnamed)'}"`;
    if (node.opType === 'Gather') {
      // An embedding table stored under a folded name. Other tables looked up by position (a RoPE cos/sin cache
      // in older exports) are constants, not parameters: only a table the config expects is taken.
      const target = fromName === undefined ? undefined : `${fromName}.weight`;
      const canonical = target === undefined ? undefined : canonicalName(config, target);
      if (target === undefined || canonical === undefined || !parameters.has(canonical)) continue;
      entries.push({
        name: target,
        shape: tensor.dims,
        origin: where,
        read: () => ({ shape: [...tensor.dims], data: floatData(tensor, weightInput, file) }),
      });
      recovered.set(target, weightInput);
      continue;
    }
    const fromBias = biasModule(node);
    if (fromName !== undefined && fromBias !== undefined && fromName !== fromBias) {
      throw new WeightsError(file, `${where}: the node's module "${fromName}" and its bias's module "${fromBias}" disagree`);
    }
    const module = fromBias ?? fromName;
    if (module === undefined) {
      throw new WeightsError(
        file,
        `${where}: cannot tell which Linear layer it belongs to (the node has no module path in its name and adds no named bias)`,
      );
    }
    if (node.opType === 'Gemm' && (intAttribute(node, 'transA', 0) !== 0 || floatAttribute(node, 'alpha', 1) !== 1)) {
      throw new WeightsError(file, `${where}: a Gemm with transA or alpha ≠ 1 does not hold a Linear weight as it is`);
    }
    const target = `${module}.weight`;
    const previous = recovered.get(target);
    if (previous !== undefined && previous !== weightInput) {
      throw new WeightsError(file, `initializers "${previous}" and "${weightInput}" both hold "${target}"`);
    }
    if (previous !== undefined) continue; // one initializer read by two nodes of one module
    recovered.set(target, weightInput);
    // MatMul and Gemm without transB read B as [in, out]; Gemm with transB as [out, in].
    const storedOutIn = node.opType === 'Gemm' && intAttribute(node, 'transB', 0) !== 0;
    const canonical = canonicalName(config, target);
    const wantsOutIn = canonical === undefined || !isConv1dWeight(config, canonical);
    const [rows, cols] = tensor.dims as [number, number];
    const transpose = storedOutIn !== wantsOutIn;
    entries.push({
      name: target,
      shape: transpose ? [cols, rows] : [rows, cols],
      origin: `${where}${transpose ? ', transposed' : ''}`,
      read: () => {
        const data = floatData(tensor, weightInput, file);
        return transpose ? { shape: [cols, rows], data: transposed(data, rows, cols) } : { shape: [rows, cols], data };
      },
    });
  }
  return entries;
}

/**
 * A checkpoint from the bytes of an ONNX export of the model `config` describes (transformers.js / Optimum layout),
 * validated as model.safetensors is. `file` names the source in errors.
 * @throws WeightsError naming `file`: not ONNX, a quantized export, a Linear weight that cannot be placed, or weights
 * that do not match the config (missing, mis-shaped, unexpected, not finite, a tied head that is not the embedding).
 */
export function checkpointFromOnnx(config: ModelConfig, bytes: Uint8Array, file: string): Checkpoint {
  let model: Model;
  try {
    model = decodeModel(bytes, file);
  } catch (error) {
    if (error instanceof OnnxDecodeError) throw new WeightsError(file, `is not a readable ONNX model: ${error.problem}`, { cause: error });
    throw error;
  }
  refuseQuantized(model, file);
  const entries = onnxStoredTensors(config, model, file);
  const byName = new Map<string, OnnxStoredTensor>();
  const twice: string[] = [];
  for (const e of entries) {
    if (byName.has(e.name)) twice.push(e.name);
    byName.set(e.name, e);
  }
  if (twice.length > 0) throw new WeightsError(file, `the graph holds ${listNames(twice)} twice (a named initializer and a folded one)`);
  const plan = planCheckpointTensors(config, entries, file);
  return assembleCheckpoint(config, plan, (name) => byName.get(name)!.read(), file);
}
