// @ziplm/onnx: write ONNX graphs from TypeScript with no dependencies. The onnxruntime side
// (sessions, a GEMM engine) lives in the `@ziplm/onnx/runtime` entry so that importing the writer
// never loads a native module. Only the names listed here are public.

// errors
export { OnnxDecodeError, OnnxError, OnnxGraphError, OnnxRuntimeUnavailableError } from './errors.js';

// building a graph
export { attr, DEFAULT_IR_VERSION, DEFAULT_OPSET, GraphBuilder } from './graph.js';
export type { AttributeInput, ModelOptions, NodeOptions, TensorInput } from './graph.js';

// the ONNX model as plain objects, and its bytes
export { encodeModel } from './model.js';
export { decodeModel } from './decode.js';
export type { Attribute, DataType, Dim, Graph, Model, Node, Tensor, TensorData, TypedArrayOf, ValueInfo } from './model.js';
