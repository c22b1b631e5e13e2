// @ziplm/onnx/runtime: onnxruntime-node, loaded lazily (it is an optional peer dependency).
export {
  loadOrt,
  importOrt,
  createSession,
  sessionOptions,
  ORT_VERSION,
  type OrtModule,
  type OrtSessionOptions,
  type GraphOptimizationLevel,
} from './ort.js';
export { createOrtMatMulEngine, matmulGraph, type OrtMatMulEngine, type MatMulOptions } from './matmul.js';
export { OnnxRuntimeUnavailableError } from '../errors.js';
