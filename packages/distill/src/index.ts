// @ziplm/distill: ZipLM's recovery fine-tuning (guide: apps/docs/guide/distillation.md): task loss, logit
// distillation and layer-wise token distillation; an AdamW training loop with exact resume; evaluation helpers;
// the recipes of the teachers and the generic ones for the caller's own data. Only the names listed here are public.

// errors
export { DistillError, LossShapeError, TrainingConfigError, TrainingStateError, TrainingStoppedError } from './errors.js';

// losses and the paper's Table 7 defaults
export {
  causalLmLoss,
  classificationLogitDistillation,
  classificationLoss,
  DEFAULT_TEMPERATURE,
  distillationObjective,
  lmLogitDistillation,
  lossWeightsFor,
  spanLogitDistillation,
  spanQaLoss,
  TABLE7_FINE_TUNING_DEFAULTS,
  TABLE7_LOSS_WEIGHTS,
  taskFamilyOf,
  tokenDistillationLoss,
} from './losses.js';
export type {
  FineTuningDefaults,
  ForwardOutputs,
  LogitDistillationOptions,
  LossWeights,
  ObjectiveOptions,
  ObjectiveTerms,
  TaskFamily,
  TaskKind,
  TaskTargets,
  TokenDistillationOptions,
} from './losses.js';

// the training loop
export { defaultLossWeights, fineTune } from './trainer.js';
export type { EvaluateFn, FineTuneOptions, FineTuneResult, ProgressEvent, StopReason } from './trainer.js';

// quantization-aware and sparse fine-tuning (fineTune's `qat` and `masks`), and the INT8 grid they train on
export {
  applyMasks,
  fakeQuantizedCheckpoint,
  fakeQuantizedModel,
  fakeQuantizeInt8,
  outputChannelAxis,
} from './qat.js';
export type { FakeQuantizedWeight, QatOptions, WeightMasks } from './qat.js';

// what the trainer needs from a model (structural: @ziplm/models' BertModel and Gpt2Model fit)
export type { ForwardModel, TrainableModel, TrainerForwardOptions } from './model.js';

// optimizer and schedule, usable on their own
export { AdamW, clipByGlobalNorm, decayMatricesOnly } from './optimizer.js';
export type { AdamWOptions, AdamWState } from './optimizer.js';
export { linearWarmupDecay } from './schedule.js';
export type { LinearScheduleOptions } from './schedule.js';

// deterministic length-bucketed batches; the generator is @ziplm/core's, re-exported because planEpoch takes it
export { batchesPerEpoch, disposeBatch, makeBatch, planEpoch } from './batching.js';
export type { Batch, BatchInputs, EpochPlanOptions, MakeBatchOptions, TrainingExample } from './batching.js';
export { SeededRng } from '@ziplm/core';
export type { SeededRngState } from '@ziplm/core';

// checkpoints: the resumable training state and the best evaluated model
export { bestModelDir, loadTrainingCheckpoint, saveBestModel, saveTrainingCheckpoint } from './checkpoint.js';
export type { EvaluationRecord, RunFingerprint, TrainerState, TrainingCheckpoint } from './checkpoint.js';

// inference-mode metrics
export { evaluateClassification, evaluatePerplexity, evaluateSpans } from './evaluate.js';
export type { ClassificationMetrics, EvaluationOptions, PerplexityMetrics, SpanMetrics } from './evaluate.js';

// the teacher recipes
export {
  GPT2_TEACHER_DEFAULTS,
  RECIPES,
  SST2_TEACHER_DEFAULTS,
  TESTBED_THRESHOLDS,
  testbedCriterion,
  trainGpt2Teacher,
  trainSst2Teacher,
  trainTeacher,
  trainWordOrderTeacher,
  WORDORDER_TEACHER_DEFAULTS,
} from './recipes.js';
export type {
  Gpt2TeacherHyperparameters,
  Gpt2TeacherOptions,
  Gpt2TeacherResults,
  RecipeHooks,
  RecipeLocation,
  RecipeName,
  Sst2TeacherHyperparameters,
  Sst2TeacherOptions,
  Sst2TeacherResults,
  TeacherHyperparameters,
  TeacherResultsCommon,
  TestbedCriterion,
  TrainingStopOptions,
  WordOrderAblation,
  WordOrderTeacherHyperparameters,
  WordOrderTeacherOptions,
  WordOrderTeacherResults,
} from './recipes.js';

// the generic recipes: the caller's task, data and model size, from scratch or from a checkpoint
export { CAUSAL_LM_DEFAULTS, TEXT_CLASSIFIER_DEFAULTS, trainCausalLm, trainTextClassifier } from './custom-recipes.js';
export type {
  CausalLmOptions,
  CausalLmResults,
  CorpusData,
  CustomRecipeHyperparameters,
  CustomRecipeResultsCommon,
  CustomRecipeSource,
  RecipeModelShape,
  SplitAccuracy,
  SplitPerplexity,
  TextClassifierData,
  TextClassifierOptions,
  TextClassifierResults,
  TextExample,
} from './custom-recipes.js';

// baselines
export { trainBagOfWordsBaseline } from './baselines.js';
export type { BagOfWordsOptions, BagOfWordsResult } from './baselines.js';
