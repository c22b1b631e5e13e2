// @ziplm/onnx: write ONNX graphs from TypeScript with no dependencies. The onnxruntime side
// (sessions, a GEMM engine) lives in the `@ziplm/onnx/runtime` entry so that importing the writer
// never loads a native module.
export * from './errors.js';
export {
  DATA_TYPES,
  ATTRIBUTE_TYPES,
  dataTypeFromNumber,
  elementCount,
  encodeModel,
  type Attribute,
  type DataType,
  type Dim,
  type Graph,
  type Model,
  type Node,
  type Tensor,
  type TensorData,
  type TypedArrayOf,
  type ValueInfo,
} from './model.js';
export { decodeModel } from './decode.js';
export {
  GraphBuilder,
  attr,
  DEFAULT_OPSET,
  DEFAULT_IR_VERSION,
  MS_DOMAIN,
  type AttributeInput,
  type ModelOptions,
  type NodeOptions,
  type TensorInput,
} from './graph.js';
