// Feeding padded batches to an exported model in onnxruntime. The `ort` module is passed in (from
// `loadOrt()` of @ziplm/onnx/runtime) so this package never imports onnxruntime at load time.

import type { ModelConfig } from '../config.js';
import { hasTokenTypes } from '../config.js';
import type { PaddedBatch } from '../data/batching.js';
import { ONNX_NAMES } from './names.js';

/**
 * The part of the onnxruntime module this needs (structural, so onnxruntime-web fits too). `TensorT` is
 * that module's tensor type, so the feeds go to its `InferenceSession.run` without a cast.
 */
export interface OrtTensorFactory<TensorT = unknown> {
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => TensorT;
}

function int64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return out;
}

/**
 * Input tensors of a full-sequence model (`exportModelToOnnx`, mode 'full') for one padded batch:
 * `token_type_ids` only for a model that has token types (BERT), since the graphs of DistilBERT, GPT2
 * and LLaMA have no such input and onnxruntime refuses a feed the graph does not declare.
 */
export function onnxFeeds<TensorT>(ort: OrtTensorFactory<TensorT>, config: ModelConfig, batch: PaddedBatch): Record<string, TensorT> {
  const dims = [batch.batchSize, batch.seqLength];
  const feeds: Record<string, TensorT> = {
    [ONNX_NAMES.inputIds]: new ort.Tensor('int64', int64(batch.inputIds), dims),
    [ONNX_NAMES.attentionMask]: new ort.Tensor('int64', int64(batch.attentionMask), dims),
  };
  if (hasTokenTypes(config)) feeds[ONNX_NAMES.tokenTypeIds] = new ort.Tensor('int64', int64(batch.tokenTypeIds), dims);
  return feeds;
}
