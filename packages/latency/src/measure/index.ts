// @ziplm/latency/measure: measuring latency tables and verifying speedups on this device. The
// engine is injected (SessionRunner); onnxruntime-node is the default and is loaded lazily.
// Only the names listed here are public.

// building a table
export { buildLatencyTable, timingCheckpoint, timingExportOptions } from './build.js';
export type { BuildProgress, BuildTableOptions } from './build.js';
export type { ProtocolOptions, ProtocolProgress } from './protocol.js';

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
