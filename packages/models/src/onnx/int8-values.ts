// The values the INT8 export works with, in a module of their own (types only) so that the public
// vocabulary (quantize.ts) and the graph builders (internal/onnx/quantized.ts) can both use them
// without importing each other.

/**
 * 'dynamic': each quantized MatMul's input is quantized at run time from its own min/max
 * (DynamicQuantizeLinear + MatMulInteger, the form of onnxruntime's `quantize_dynamic`).
 * 'static': from calibration ranges fixed at export (QuantizeLinear/DequantizeLinear around MatMul, QDQ).
 */
export type ActivationQuantization = 'dynamic' | 'static';

/**
 * One linear layer's INT8 weights: `q` is out × in row-major (the nn.Linear layout, for BERT and GPT2
 * alike; the exporter transposes as each graph needs), one symmetric scale per output feature;
 * value = q · scale. q is in [−127, 127] (symmetric, as onnxruntime's quantizer uses for int8 weights).
 */
export interface Int8Weight {
  readonly q: Int8Array;
  readonly scales: Float32Array;
}

/** The range of a quantized MatMul's input seen on calibration data. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}
