// @ziplm/models/onnx: ONNX export of BERT and GPT2, whole models and the single blocks the latency
// table times, and the feeds of a padded batch. Loads neither TensorFlow.js nor onnxruntime (`onnxFeeds`
// takes the onnxruntime module as an argument).

// Exports.
export { exportAttentionBlock, exportFfnBlock, exportLayerBlock, exportModelToOnnx } from './export.js';
export type { BlockExportOptions, ModelExportOptions, OnnxExportOptions } from './export.js';
export { OnnxExportError } from './errors.js';

// INT8 export: the linears it quantizes and the weights and ranges a caller may give it.
export { dequantizedCheckpoint, quantizableLinears } from './quantize.js';
export type { ActivationQuantization, ActivationRange, Int8Weight, OnnxQuantizeOptions, QuantizableLinear } from './quantize.js';

// The graphs' interface: input and output names, symbolic dimensions.
export { ONNX_DIMS, ONNX_NAMES, OPTIMUM_DIMS, OPTIMUM_NAMES } from './names.js';
export type { LinearInputSlot } from './names.js';

// Running an exported model in onnxruntime.
export { onnxFeeds } from './run.js';
export type { OrtTensorFactory } from './run.js';
