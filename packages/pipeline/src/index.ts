// @ziplm/pipeline: the ZipLM pipeline as a library (the `ziplm` CLI is a thin layer over it). Only the
// names listed here are public; the stages, the run directory and the file schemas are internal.

// errors
export { OptionsError, PipelineError, RunDirectoryError, RunLockedError, TaskDataError } from './errors.js';
export type { PipelineErrorCode } from './errors.js';
export { ReportError, ReportWriteError } from './report/errors.js';

// running the pipeline: one-shot and gradual ZipLM
export { runOneShot } from './oneshot.js';
export type { OneShotOptions } from './oneshot.js';
export { runGradual } from './gradual.js';
export type { GradualFineTuneOptions, GradualOptions, GradualVariant } from './gradual.js';
export type { CompoundOptions, CompoundSettings, EngineKind, PipelineEvent, RunOptions, SpdySettings } from './context.js';

// what a run found (results.json) and its report
export type {
  Comparison,
  CompoundResult,
  CompressionMethod,
  MemberAttempt,
  MemberRecord,
  MemberResult,
  MemberVerification,
  MetricInfo,
  RunResults,
  SpeedupStatus,
} from './results.js';
export { RESULTS_FILE } from './report-io.js';
export { checkRunResults, renderReport, writeReport } from './report/index.js';
export type { RenderedReport, ReportInputs } from './report/index.js';

// tasks: calibration data, evaluation data and scoring
export {
  DEFAULT_TASK_SPLIT,
  defaultTask,
  describeTaskData,
  glueSpec,
  labelIdsFor,
  prepareTask,
  readTaskData,
  TASK_NAMES,
  taskNameOf,
  wikitextSpec,
} from './tasks/index.js';
export type {
  ClassificationTaskData,
  ClassificationTaskSpec,
  LanguageModelingTaskData,
  LanguageModelingTaskSpec,
  PreparedTask,
  ScoreProgress,
  Scores,
  TaskChoice,
  TaskData,
  TaskName,
  TaskOptions,
  TaskSpec,
  TaskSplit,
} from './tasks/index.js';
export { readCheckedMember } from './stages/members.js';
export { scoreCheckpoint } from './stages/score.js';

// engine parity: the TensorFlow.js model vs its ONNX export in onnxruntime
export { checkEngineParity } from './parity.js';
export type { EngineParityOptions, EngineParityResult } from './parity.js';
