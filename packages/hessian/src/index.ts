export type { MatMulEngine, MatMulOptions } from './engine-types.js';
export { attentionLevels, ffnLevels } from './levels.js';
export type { LayerErrors } from './levels.js';
export { createJsMatMulEngine, gemmF32, gemmF64 } from './engine.js';
export {
  CalibrationError,
  DatabaseError,
  HessianError,
  LevelError,
  NotPositiveDefiniteError,
  NumericalError,
  ShapeError,
} from './errors.js';
export { HessianAccumulator } from './hessian.js';
export type { HessianAccumulatorOptions, HessianStatistics } from './hessian.js';
export { invertHessian, preparedHessian } from './prepare.js';
export type { DampingReport, PreparedHessian, PrepareOptions } from './prepare.js';
export { choleskyInverseInPlace } from './cholesky.js';
export { obsSweep } from './sweep.js';
export type { ObsProblem, Snapshot, SweepOptions, SweepResult } from './sweep.js';
export { magnitudeSweep } from './magnitude.js';
export type { MagnitudeSweepOptions } from './magnitude.js';
export {
  LevelDatabase,
  createMemoryStorage,
  decodeLayerRecord,
  encodeLayerRecord,
  layerFileName,
  levelPayloadBytes,
} from './database.js';
export type { BuildOptions, LayerHeader, LayerJob, LayerRecord, LayerSpec, LevelStorage, ModuleKind, PruningMethod, StoredLevel } from './database.js';
export { conv1dToLinear, linearToConv1d } from './layout.js';
