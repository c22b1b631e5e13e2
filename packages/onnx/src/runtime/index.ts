// @ziplm/onnx/runtime: onnxruntime-node, loaded lazily (it is an optional peer dependency). Only the
// names listed here are public.

// loading onnxruntime and creating sessions
export { createSession, loadOrt, ORT_VERSION, sessionOptions } from './ort.js';
export type { GraphOptimizationLevel, OrtModule, OrtSessionOptions } from './ort.js';
export { OnnxRuntimeUnavailableError } from '../errors.js';

// onnxruntime's GEMM as a @ziplm/hessian MatMulEngine
export { createOrtMatMulEngine, matmulGraph } from './matmul.js';
export type { OrtMatMulEngine, OrtMatMulOptions } from './matmul.js';
