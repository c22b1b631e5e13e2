// @ziplm/latency/measure: measuring latency tables and verifying speedups on this device. The
// engine is injected (SessionRunner); onnxruntime-node is the default and is loaded lazily.
// Only the names listed here are public.

// building a table: plan (which graphs), measure and assemble; buildLatencyTable does both
export { buildLatencyTable, planLatencyTable, timingCheckpoint, timingExportOptions } from './build.js';
export type { BuildProgress, BuildTableOptions, PlannedLatencyTable, PlanTableOptions } from './build.js';
export { measureLatencyPlan, MIN_RESOLUTION_STEPS_PER_SAMPLE } from './measure-plan.js';
export type { MeasurePlanOptions } from './measure-plan.js';
export { measureTimerResolution } from './protocol.js';
export type { ProtocolOptions, ProtocolProgress } from './protocol.js';

// a plan as a directory of ONNX files and a manifest (`ziplm latency --export-levels`), for a browser
export { planGraphFileName, readLatencyPlan, writeLatencyPlan } from './plan-files.js';
export type { LatencyPlanDirectory, WritePlanProgress } from './plan-files.js';

// verifying measured speedups
export { verifySpeedup, verifySpeedups } from './verify.js';
export type {
  MachineLoad,
  TimedModel,
  VerificationReport,
  VerificationStatus,
  VerifyCandidate,
  VerifyCommonOptions,
  VerifyOptions,
} from './verify.js';

// the engine: onnxruntime-node by default, or any SessionRunner
export { ortFingerprint, ortSessionOptions } from './ort.js';
export type { EngineSession, FeedTensor, InputInfo, SessionRunner } from './runner.js';
