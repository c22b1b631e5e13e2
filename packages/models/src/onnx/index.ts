// ONNX export of BERT and GPT2: whole models and the single blocks the latency table times.
export {
  exportModelToOnnx,
  exportAttentionBlock,
  exportFfnBlock,
  exportLayerBlock,
  ONNX_NAMES,
  type OnnxExportOptions,
  type ModelExportOptions,
  type BlockExportOptions,
} from './export.js';
export { OnnxExportError } from './errors.js';
export { ATTENTION_MASK_NEGATIVE as ONNX_ATTENTION_MASK_NEGATIVE, DIMS as ONNX_DIMS } from './modules.js';
export { onnxFeeds, type OrtTensorFactory } from './run.js';
