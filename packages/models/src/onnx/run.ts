// Feeding padded batches to an exported model in onnxruntime. The `ort` module is passed in (from
// `loadOrt()` of @ziplm/onnx/runtime) so this package never imports onnxruntime at load time.

import type { ModelConfig } from '../config.js';
import type { PaddedBatch } from '../data/batching.js';
import { ONNX_NAMES } from './export.js';

/** The part of the onnxruntime module this needs (structural, so onnxruntime-web fits too). */
export interface OrtTensorFactory {
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => unknown;
}

function int64(values: Int32Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]!);
  return out;
}

/** Input tensors of a full-sequence model (`exportModelToOnnx`, mode 'full') for one padded batch. */
export function onnxFeeds(ort: OrtTensorFactory, config: ModelConfig, batch: PaddedBatch): Record<string, unknown> {
  const dims = [batch.batchSize, batch.seqLength];
  const feeds: Record<string, unknown> = {
    [ONNX_NAMES.inputIds]: new ort.Tensor('int64', int64(batch.inputIds), dims),
    [ONNX_NAMES.attentionMask]: new ort.Tensor('int64', int64(batch.attentionMask), dims),
  };
  if (config.modelType === 'bert') feeds[ONNX_NAMES.tokenTypeIds] = new ort.Tensor('int64', int64(batch.tokenTypeIds), dims);
  return feeds;
}
