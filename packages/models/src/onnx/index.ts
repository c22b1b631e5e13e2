// @ziplm/models/onnx: ONNX export of BERT and GPT2, whole models and the single blocks the latency
// table times, and the feeds of a padded batch. Loads neither TensorFlow.js nor onnxruntime (`onnxFeeds`
// takes the onnxruntime module as an argument).

// Exports.
export { exportAttentionBlock, exportFfnBlock, exportLayerBlock, exportModelToOnnx } from './export.js';
export type { BlockExportOptions, ModelExportOptions, OnnxExportOptions } from './export.js';
export { OnnxExportError } from './errors.js';

// The graphs' interface: input and output names, symbolic dimensions.
export { ONNX_DIMS, ONNX_NAMES } from './names.js';

// Running an exported model in onnxruntime.
export { onnxFeeds } from './run.js';
export type { OrtTensorFactory } from './run.js';
