// @ziplm/latency/browser: latency tables measured in a browser with onnxruntime-web, from the plan
// `ziplm latency --export-levels DIR` writes. Nothing in this entry's import graph imports a `node:`
// module, the file system or onnxruntime-node (test/browser-entry.test.ts walks it); onnxruntime-web
// is passed in by the page. Only the names listed here are public.

// building a table in the browser
export { buildTableFromPlan } from './build.js';
export type { BuildTableFromPlanOptions, ProtocolOverrides } from './build.js';
export type { BuildProgress } from '../measure/measure-plan.js';
export type { ProtocolProgress } from '../measure/protocol.js';

// verifying members' speedups in the browser ("verify in this browser"), as `ziplm verify` does in Node
export { verifySpeedupsInBrowser } from './verify.js';
export type { BrowserVerificationReport, BrowserVerifyMember, VerifyInBrowserOptions } from './verify.js';
export { speedupVerdict } from '../measure/paired-speedup.js';
export type { SpeedupVerdict, VerdictInput, VerificationReport, VerificationStatus, VerifyProgress } from '../measure/paired-speedup.js';

// the onnxruntime-web engine
export { browserFingerprint, createOrtWebRunner, usableWasmThreads, webAssemblySimd } from './ort-web.js';
export type {
  OrtWebModule,
  OrtWebRunner,
  OrtWebRunnerOptions,
  OrtWebSession,
  OrtWebSessionOptions,
  OrtWebTensor,
  OrtWebValueMetadata,
} from './ort-web.js';

// the plan: its manifest and graphs, checked before use
export {
  checkPlannedGraph,
  LATENCY_PLAN_FORMAT,
  LATENCY_PLAN_LIMITS,
  LATENCY_PLAN_MANIFEST,
  LATENCY_PLAN_VERSION,
  parseLatencyPlanManifest,
  sha256Hex,
} from '../plan.js';
export type { LatencyPlanManifest, LatencyTablePlan, PlannedGraph, PlannedGraphFile, PlanProtocol, WholeModelRole } from '../plan.js';

// measuring a plan with any engine, and the clock
export { measureLatencyPlan, MIN_RESOLUTION_STEPS_PER_SAMPLE } from '../measure/measure-plan.js';
export type { MeasurePlanOptions } from '../measure/measure-plan.js';
export { measureTimerResolution } from '../measure/protocol.js';
export type { EngineSession, FeedTensor, InputInfo, SessionRunner } from '../measure/runner.js';

// the table (the same format as Node's), for the page to show and offer as a download
export { describeEnvironment } from '../environment.js';
export type { DeviceFingerprint, InferenceBackend, InferenceEnvironment, WebRuntimeInfo } from '../environment.js';
export { parseLatencyTable, serializeLatencyTable } from '../table.js';
export type { LatencyTable, LevelTime, TableBuildInfo } from '../table.js';
export { predictRuntime } from '../runtime.js';

// errors
export { LatencyPlanError, LatencyTableError, MeasurementError } from '../errors.js';
