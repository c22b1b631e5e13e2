// @ziplm/latency: latency tables, the runtime model and the speedup-constrained search. This entry
// never loads onnxruntime; measuring tables and verifying speedups lives in `@ziplm/latency/measure`.
// Only the names listed here are public.

// errors
export {
  EnvironmentError,
  InfeasibleTargetError,
  LatencyError,
  LatencyTableError,
  MeasurementError,
  MissingLevelError,
  SearchError,
  TableMismatchError,
} from './errors.js';
export type { LatencyErrorCode } from './errors.js';

// the inference environment a table is measured for, and the device it is measured on
export {
  describeEnvironment,
  environmentDifferences,
  exportOptionsFor,
  fp32Environment,
  inferenceEnvironment,
  precisionOf,
} from './environment.js';
export type {
  DeviceFingerprint,
  GraphOptimizationLevel,
  InferenceEngine,
  InferenceEnvironment,
  InferenceEnvironmentOptions,
  InferenceMode,
  InferencePrecision,
} from './environment.js';

// the latency table: its format, schema and files
export {
  LATENCY_TABLE_FORMAT,
  LATENCY_TABLE_VERSION,
  LatencyTableSchema,
  modelShapeOf,
  parseLatencyTable,
  serializeLatencyTable,
} from './table.js';
export type { BlockTiming, CalibrationPoint, LatencyTable, LevelTime, ModelShape, TableBuildInfo, TableCalibration } from './table.js';
export type { TimingSummary } from './stats.js';
export { loadLatencyTable, saveLatencyTable } from './table-file.js';
export type { LatencyTableWarning, LoadLatencyTableOptions } from './table-file.js';

// the runtime model: a pruned model's predicted time
export { predictRuntime, referenceTime } from './runtime.js';
export type { RuntimePrediction } from './runtime.js';

// the speedup-constrained search: knapsack DP, the uniform baseline and SPDY
export { maxAchievableSpeedup, maxUniformSpeedup, searchForSpeedup, searchUniform } from './search.js';
export type { LayerErrors, ModuleChoice, SearchOptions, SearchResult, UniformSearchOptions } from './search.js';
export { spdySearch } from './spdy.js';
export type { SpdyOptions, SpdyResult } from './spdy.js';

// calibration of a table to members whose speedups were measured (validated on held-out members)
export { applyMemberCalibration, calibrateToMembers } from './calibration.js';
export type { MeasuredMember, MemberCalibration, MemberCalibrationModel } from './calibration.js';
