// @ziplm/hessian: the layer-wise structured OBS solver (guide: apps/docs/guide/structured-obs.md) and its
// level database, with no dependencies; runs in Node and in a browser. The file-system storage is in
// `@ziplm/hessian/node`. Only the names listed here are public.

// errors
export {
  CalibrationError,
  DatabaseError,
  HessianError,
  LevelError,
  NotPositiveDefiniteError,
  NumericalError,
  ShapeError,
} from './errors.js';

// the pluggable GEMM engine (implemented structurally by @ziplm/onnx/runtime's createOrtMatMulEngine)
export { createJsMatMulEngine, gemmF32, gemmF64 } from './engine.js';
export type { MatMulEngine, MatMulOptions } from './engine-types.js';

// the Hessian: accumulation, damping and inversion
export { HessianAccumulator } from './hessian.js';
export type { HessianAccumulatorOptions, HessianStatistics } from './hessian.js';
export { invertHessian, preparedHessian } from './prepare.js';
export type { DampingReport, PreparedHessian, PrepareOptions } from './prepare.js';
export { choleskyInverseInPlace } from './cholesky.js';

// the sweeps: structured OBS and the magnitude baseline, at the paper's level grids
export { obsSweep } from './sweep.js';
export type { ObsProblem, Snapshot, SweepOptions, SweepResult } from './sweep.js';
export { magnitudeSweep } from './magnitude.js';
// INT8 weight quantization with the same Hessian: GPTQ, and round-to-nearest as its baseline
export { INT8_MAX, outputError, quantizationError, quantizeGptq, quantizeRtn } from './quantize.js';
export type { QuantizedLayer, QuantizeOptions } from './quantize.js';
// unstructured OBS sparsity with the same Hessian: SparseGPT (with a refit of the kept weights), and magnitude
export { DEFAULT_REFIT_ITERATIONS, sparsifyMagnitude, sparsifyObs } from './sparsify.js';
export type { MagnitudeSparsifyOptions, SparseLayer, SparsifyOptions } from './sparsify.js';
export type { MagnitudeSweepOptions } from './magnitude.js';
export { attentionLevels, ffnLevels } from './levels.js';
export type { LayerErrors } from './levels.js';

// the level database and its file format
export { createMemoryStorage, decodeLayerRecord, encodeLayerRecord, layerFileName, LevelDatabase, levelPayloadBytes } from './database.js';
export type { BuildOptions, LayerHeader, LayerJob, LayerRecord, LayerSpec, LevelStorage, StoredLevel, SweepMethod } from './database.js';

// GPT2's Conv1D layout
export { conv1dToLinear, linearToConv1d } from './layout.js';
