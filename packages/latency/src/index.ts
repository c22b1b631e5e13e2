// @ziplm/latency: latency tables, the runtime model and the speedup-constrained search. This entry
// never loads onnxruntime; measuring tables and verifying speedups lives in `@ziplm/latency/measure`.
// Only the names listed here are public.

// errors
export {
  EnvironmentError,
  InfeasibleTargetError,
  LatencyError,
  LatencyPlanError,
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
  workloadDifferences,
} from './environment.js';
export type {
  DeviceFingerprint,
  GraphOptimizationLevel,
  InferenceBackend,
  InferenceEngine,
  InferenceEnvironment,
  InferenceEnvironmentOptions,
  InferenceMode,
  InferencePrecision,
  WebRuntimeInfo,
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

// the latency plan: the graphs a table build times, as a manifest + ONNX files for a browser to measure
export {
  checkPlannedGraph,
  LATENCY_PLAN_FORMAT,
  LATENCY_PLAN_LIMITS,
  LATENCY_PLAN_MANIFEST,
  LATENCY_PLAN_VERSION,
  LatencyPlanManifestSchema,
  parseLatencyPlanManifest,
  sha256Hex,
} from './plan.js';
export type { LatencyPlanManifest, LatencyTablePlan, PlannedGraph, PlannedGraphFile, PlanProtocol, WholeModelRole } from './plan.js';

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
