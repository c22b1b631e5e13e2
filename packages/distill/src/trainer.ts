// The fine-tuning loop of ZipLM (guide/index.md, guide/distillation.md; the paper's Table 7): a student trained with
// L = λ1 L_task + λ2 L_logit + λ3 L_token against a teacher that only runs inference.
//
// One step: build the padded batch → teacher forward (no tape, no dropout) → student forward with dropout
// seeded by (seed, step) under tf.variableGrads → objective → gradient clipping by global norm → AdamW with
// the linear warm-up/decay rate of this step.
//
// Reproducibility: the data order comes from a SeededRng whose state at each epoch's start is checkpointed with
// the position in that epoch, dropout masks from mixSeed(seed, step), and the optimizer moments and step are
// checkpointed exactly (float32 bit patterns). A run interrupted at any step boundary and resumed from its last
// checkpoint therefore performs the same arithmetic as an uninterrupted run and ends with the same weights.
//
// Stopping early: an abort signal, early stopping (`patience` evaluations without a better metric, counted
// from the checkpointed history) and a time budget for the call all stop between updates and write `last/`;
// `stopReason` says which. None of them is part of the run's fingerprint: they decide where a session ends,
// not what an update computes.

import * as tf from '@tensorflow/tfjs-core';
import { mixSeed, SeededRng } from '@ziplm/core';
import type { Checkpoint, Tokenizer } from '@ziplm/models';
import { createModel, hasTokenTypes } from '@ziplm/models';
import { batchesPerEpoch, disposeBatch, makeBatch, planEpoch, type TrainingExample } from './batching.js';
import { checkFingerprint, loadTrainingCheckpoint, saveBestModel, saveTrainingCheckpoint, TRAINER_STATE_FORMAT } from './checkpoint.js';
import type { EvaluationRecord, RunFingerprint, TrainerState } from './checkpoint.js';
import { TrainingConfigError } from './errors.js';
import {
  DEFAULT_TEMPERATURE,
  distillationObjective,
  TABLE7_LOSS_WEIGHTS,
  type ForwardOutputs,
  type LossWeights,
  type TaskKind,
  type TokenDistillationOptions,
} from './losses.js';
import type { ForwardModel, TrainableModel } from './model.js';
import { padIdOf } from './model.js';
import { AdamW, clipByGlobalNorm } from './optimizer.js';
import {
  applyMasks,
  checkLinearRewrites,
  linearRewrites,
  withLinearTransform,
  type LinearRewrites,
  type QatOptions,
  type WeightMasks,
} from './qat.js';
import { linearWarmupDecay } from './schedule.js';

/** Default loss weights of a task kind: Table 7's GLUE, SQuAD and GPT2 columns. */
export function defaultLossWeights(task: TaskKind): LossWeights {
  return task === 'classification' ? TABLE7_LOSS_WEIGHTS.glue : task === 'span-qa' ? TABLE7_LOSS_WEIGHTS.squad : TABLE7_LOSS_WEIGHTS.gpt2;
}

/** An evaluation callback: runs the model in inference mode and returns named metrics. */
export type EvaluateFn = (model: ForwardModel, step: number) => Promise<Record<string, number>> | Record<string, number>;

/** What the progress callback receives. */
export type ProgressEvent =
  | {
      readonly type: 'step';
      /** Updates done, including this one. */
      readonly step: number;
      readonly totalSteps: number;
      readonly epoch: number;
      /** The weighted objective of this batch and its computed terms. */
      readonly loss: number;
      readonly terms: Readonly<{ task?: number; logit?: number; token?: number }>;
      readonly lr: number;
      /** Global gradient norm before clipping. */
      readonly gradNorm: number;
      /** Real tokens of this batch. */
      readonly tokens: number;
      /** Training wall time so far (ms, all sessions of this run). */
      readonly elapsedMs: number;
      /** Real tokens per second of the training steps of this session (evaluation and checkpoints excluded). */
      readonly tokensPerSecond: number;
    }
  | { readonly type: 'evaluation'; readonly step: number; readonly metrics: Readonly<Record<string, number>>; readonly best: boolean }
  | { readonly type: 'checkpoint'; readonly step: number; readonly path: string }
  | { readonly type: 'resumed'; readonly step: number; readonly path: string }
  /** Training stopped before `totalSteps` (after the checkpoint of the stop is written). */
  | { readonly type: 'stopped'; readonly step: number; readonly totalSteps: number; readonly reason: Exclude<StopReason, 'completed'> };

/**
 * Why {@link fineTune} returned: every update done (`completed`); `patience` evaluations in a row without a
 * better selected metric (`patience`); the call's time budget spent (`time-budget`); `signal` aborted (`aborted`).
 * In every case but `completed`, `last/` holds the state to resume from and `best/` the best evaluated model.
 */
export type StopReason = 'completed' | 'patience' | 'time-budget' | 'aborted';

/** Options of {@link fineTune}. */
export interface FineTuneOptions {
  readonly task: TaskKind;
  /** The initial student (a pruned or dense checkpoint). Ignored when resuming from `checkpointDir`. */
  readonly student: Checkpoint;
  /**
   * The teacher: a model (used as is) or a checkpoint (built here and disposed at the end). Only runs
   * inference: its outputs are computed outside the gradient tape, without dropout. Required when the logit
   * or token weight is > 0. Must share the student's hidden size and layer count.
   */
  readonly teacher?: ForwardModel | Checkpoint;
  readonly train: readonly TrainingExample[];
  readonly batchSize: number;
  /** Epochs over `train` (default 1). Ignored when `maxSteps` is given. */
  readonly epochs?: number;
  /** Total optimizer updates; overrides `epochs`. */
  readonly maxSteps?: number;
  /** Peak learning rate (Table 7: 8e-5 BERT-base, 5e-5 BERT-large, 1e-3 GPT2). */
  readonly learningRate: number;
  /** Linear warm-up updates (default 0); see also `warmupRatio`. */
  readonly warmupSteps?: number;
  /** Warm-up as a fraction of the total updates; used when `warmupSteps` is not given. */
  readonly warmupRatio?: number;
  /** Decoupled weight decay (Table 7: 0.03 BERT-base, 0.05 BERT-large, 0 GPT2; default 0). */
  readonly weightDecay?: number;
  /** Gradient clipping by global norm (default 1.0, HF's default; Infinity disables). */
  readonly maxGradNorm?: number;
  /** λ1, λ2, λ3 (default: Table 7 for the task kind, {@link defaultLossWeights}). */
  readonly weights?: LossWeights;
  /** Distillation temperature (default {@link DEFAULT_TEMPERATURE}). */
  readonly temperature?: number;
  readonly tokenDistillation?: TokenDistillationOptions;
  /** Seed of the data order and the dropout masks (default 0). */
  readonly seed?: number;
  /** Batches per length bucket (default 50; see planEpoch). */
  readonly bucketBatches?: number;
  /** Whether the student uses dropout while training (default true; its config's rates apply). */
  readonly dropout?: boolean;
  /** Called every `evaluateEvery` updates and after the last one. */
  readonly evaluate?: EvaluateFn;
  readonly evaluateEvery?: number;
  /** Metric that selects the best evaluation (default: the first metric returned). */
  readonly selectMetric?: string;
  /** Whether a larger `selectMetric` is better (default true; use false for loss or perplexity). */
  readonly higherIsBetter?: boolean;
  /**
   * Where training checkpoints go (`last/`, and `best/` with the best evaluated model). When it holds a
   * checkpoint of the same run, training resumes from it. Without it nothing is written.
   */
  readonly checkpointDir?: string;
  /** Write `last/` every this many updates (default: at every evaluation, and at the end). */
  readonly checkpointEvery?: number;
  /** Resume from `checkpointDir` when it holds a checkpoint (default true). */
  readonly resume?: boolean;
  /** Saved next to the `best/` model so that directory is a complete model directory. */
  readonly tokenizer?: Tokenizer;
  readonly onProgress?: (event: ProgressEvent) => void;
  /**
   * Checked between updates (after the finished update's scheduled evaluation and checkpoint): when aborted,
   * `last/` is written (if `checkpointDir` and at least one update was done) and fineTune returns with
   * `stopReason: 'aborted'`.
   */
  readonly signal?: AbortSignal;
  /**
   * Early stopping: stop once this many evaluations in a row have not improved `selectMetric` on the best one.
   * Counted from the recorded history, so a resumed run keeps its count (and a run that stopped for patience
   * stops again at once when rerun with the same patience). Requires `evaluate`.
   */
  readonly patience?: number;
  /**
   * Time budget of this call (ms): training stops after the update during which it ran out, evaluates that
   * model (unless that update was just evaluated) and writes `last/`, so the best model of the budget is in
   * `best/` and a later call resumes. Not part of the run: resuming with another budget is the same run.
   */
  readonly maxMilliseconds?: number;
  /**
   * Quantization-aware fine-tuning: the named linears run on their INT8 grid values (and, with `activations`,
   * on uint8 inputs) in every forward pass, training and evaluation alike, with straight-through gradients to
   * the float32 weights (see `QatOptions`). The result holds those float32 weights: round-to-nearest INT8 of
   * them (per output channel, max|w| / 127) is exactly what training multiplied by; `fakeQuantizedModel` runs
   * the result as QAT evaluated it.
   */
  readonly qat?: QatOptions;
  /**
   * Fixed sparsity masks of linear weights (1 = keep, 0 = pruned, checkpoint layout): the student starts from
   * the masked weights and its pruned weights stay exactly 0 through training, with or without `qat`.
   */
  readonly masks?: WeightMasks;
}

/** What {@link fineTune} returns. */
export interface FineTuneResult {
  /** The trained student (the caller disposes it). */
  readonly model: TrainableModel;
  /** Its final weights. */
  readonly checkpoint: Checkpoint;
  /** Updates done (equals totalSteps unless stopped early, see `stopReason`). */
  readonly step: number;
  readonly totalSteps: number;
  /** True when stopped by `signal` before totalSteps (`stopReason` 'aborted'). */
  readonly interrupted: boolean;
  /** Why training stopped; see {@link StopReason}. */
  readonly stopReason: StopReason;
  readonly history: readonly EvaluationRecord[];
  readonly best?: EvaluationRecord;
  /** Real tokens trained on (all sessions). */
  readonly tokensSeen: number;
  /** Training wall time in ms (all sessions, evaluation included). */
  readonly elapsedMs: number;
  /** Step the run resumed from (0 for a fresh run). */
  readonly resumedFrom: number;
}

function isCheckpoint(x: ForwardModel | Checkpoint): x is Checkpoint {
  return (x as Checkpoint).weights instanceof Map;
}

/** A teacher model's weights, when it can give them (models without `toWeights` are identified by config only). */
function teacherWeights(teacher: ForwardModel): Checkpoint {
  const t = teacher as Partial<TrainableModel>;
  return { config: teacher.config, weights: typeof t.toWeights === 'function' ? t.toWeights() : new Map() };
}

/** FNV-1a over the token ids and labels: identifies the training set in the fingerprint. */
function datasetHash(examples: readonly TrainingExample[]): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h ^= x & 0xff;
    h = Math.imul(h, 0x01000193);
    h ^= (x >>> 8) & 0xffffff;
    h = Math.imul(h, 0x01000193);
  };
  for (const ex of examples) {
    mix(ex.inputIds.length);
    for (const id of ex.inputIds) mix(id);
    if (ex.typeIds) for (const t of ex.typeIds) mix(t);
    mix((ex.label ?? -1) + 1);
    mix((ex.startPosition ?? -1) + 1);
    mix((ex.endPosition ?? -1) + 1);
  }
  return (h >>> 0).toString(16);
}

/** FNV-1a over QAT's weight names (in a canonical order) and whether activations are quantized. */
function qatHash(qat: QatOptions): string {
  let h = 0x811c9dc5;
  for (const name of [...new Set(qat.weights)].sort()) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x2c, 0x01000193);
  }
  return `${(h >>> 0).toString(16)}${qat.activations ? '+activations' : ''}`;
}

/** FNV-1a over the masks' names (in a canonical order) and bits. */
function masksHash(masks: WeightMasks): string {
  let h = 0x811c9dc5;
  for (const name of [...masks.keys()].sort()) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    for (const bit of masks.get(name)!) h = Math.imul(h ^ bit, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

/** FNV-1a over the names, shapes and float32 bit patterns of a checkpoint's weights. */
function checkpointHash(checkpoint: Checkpoint): string {
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x & 0xffff), 0x01000193);
    h = Math.imul(h ^ (x >>> 16), 0x01000193);
  };
  for (const [name, t] of checkpoint.weights) {
    for (let i = 0; i < name.length; i++) mix(name.charCodeAt(i));
    for (const d of t.shape) mix(d);
    const data = t.data.byteOffset % 4 === 0 ? t.data : Float32Array.from(t.data);
    const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
    for (let i = 0; i < bits.length; i++) mix(bits[i]!);
  }
  return (h >>> 0).toString(16);
}

function checkTeacherShape(student: Checkpoint, teacher: { readonly config: Checkpoint['config'] }): void {
  const s = student.config;
  const t = teacher.config;
  if (s.modelType !== t.modelType)
    throw new TrainingConfigError('teacher', `is a ${t.modelType} model, the student a ${s.modelType} model`);
  if (s.hiddenSize !== t.hiddenSize || s.numLayers !== t.numLayers) {
    throw new TrainingConfigError(
      'teacher',
      `must share the student's hidden size and layer count (layer l maps to layer l): teacher ${t.hiddenSize}×${t.numLayers} layers, student ${s.hiddenSize}×${s.numLayers}`,
    );
  }
}

/**
 * Fine-tunes a student with task loss and distillation from a teacher (ZipLM's recovery step), or trains a
 * model from scratch on the task loss alone (weights `{ task: 1, logit: 0, token: 0 }`, no teacher).
 * Deterministic for a given seed and backend; resumable from `checkpointDir` with identical results.
 */
export async function fineTune(options: FineTuneOptions): Promise<FineTuneResult> {
  const { task, train, batchSize } = options;
  if (train.length === 0) throw new TrainingConfigError('train', 'has no examples');
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new TrainingConfigError('batchSize', `must be an integer >= 1, got ${batchSize}`);
  const weights = options.weights ?? defaultLossWeights(task);
  if (weights.task + weights.logit + weights.token <= 0) throw new TrainingConfigError('weights', 'must have at least one positive weight');
  const needsTeacher = weights.logit > 0 || weights.token > 0;
  if (needsTeacher && !options.teacher) {
    throw new TrainingConfigError('teacher', `is required: logit weight ${weights.logit}, token weight ${weights.token}`);
  }
  const perEpoch = batchesPerEpoch(train.length, batchSize);
  const epochs = options.epochs ?? 1;
  const totalSteps = options.maxSteps ?? Math.round(epochs * perEpoch);
  if (!Number.isInteger(totalSteps) || totalSteps < 1)
    throw new TrainingConfigError('maxSteps', `must give at least one update, got ${totalSteps}`);
  const warmupSteps = options.warmupSteps ?? Math.floor((options.warmupRatio ?? 0) * totalSteps);
  const schedule = linearWarmupDecay({ peakLr: options.learningRate, totalSteps, warmupSteps });
  const maxGradNorm = options.maxGradNorm ?? 1.0;
  const seed = options.seed ?? 0;
  const bucketBatches = options.bucketBatches ?? 50;
  const evaluateEvery = options.evaluateEvery ?? 0;
  if (options.evaluate && (!Number.isInteger(evaluateEvery) || evaluateEvery < 0)) {
    throw new TrainingConfigError('evaluateEvery', `must be an integer >= 0, got ${evaluateEvery}`);
  }
  const checkpointEvery = options.checkpointEvery ?? Math.max(evaluateEvery, 0);
  const { patience, maxMilliseconds } = options;
  if (patience !== undefined) {
    if (!Number.isInteger(patience) || patience < 1) throw new TrainingConfigError('patience', `must be an integer >= 1, got ${patience}`);
    if (!options.evaluate) throw new TrainingConfigError('patience', 'needs `evaluate`: early stopping watches the evaluation metric');
  }
  if (maxMilliseconds !== undefined && !(maxMilliseconds > 0))
    throw new TrainingConfigError('maxMilliseconds', `must be > 0, got ${maxMilliseconds}`);
  const temperature = options.temperature ?? DEFAULT_TEMPERATURE;
  const higherIsBetter = options.higherIsBetter ?? true;

  const fingerprint: RunFingerprint = {
    task,
    modelType: options.student.config.modelType,
    batchSize,
    totalSteps,
    warmupSteps,
    learningRate: options.learningRate,
    weightDecay: options.weightDecay ?? 0,
    maxGradNorm,
    lambdaTask: weights.task,
    lambdaLogit: weights.logit,
    lambdaToken: weights.token,
    temperature,
    tokenNormalize: options.tokenDistillation?.normalize ?? 'none',
    layerReduction: options.tokenDistillation?.layerReduction ?? 'sum',
    includeEmbeddings: options.tokenDistillation?.includeEmbeddings ?? false,
    seed,
    bucketBatches,
    dropout: options.dropout ?? true,
    examples: train.length,
    dataset: datasetHash(train),
    // The initial student and the teacher belong to the run too: resuming onto other weights would mix runs.
    student: checkpointHash(options.student),
    ...(needsTeacher
      ? { teacher: checkpointHash(isCheckpoint(options.teacher!) ? options.teacher : teacherWeights(options.teacher!)) }
      : {}),
    // Only present when used, so the fingerprints of runs without them are unchanged.
    ...(options.qat ? { qat: qatHash(options.qat) } : {}),
    ...(options.masks ? { masks: masksHash(options.masks) } : {}),
  };
  // Checked before anything is loaded or built: a bad name or mask is an option error, not a failed step.
  const rewriteOptions = { ...(options.qat ? { qat: options.qat } : {}), ...(options.masks ? { masks: options.masks } : {}) };
  checkLinearRewrites(options.student.config, rewriteOptions);
  const maskedStudent = options.masks ? applyMasks(options.student, options.masks) : options.student;

  // ---- resume or start -------------------------------------------------------------------------------
  const resumed = options.checkpointDir && options.resume !== false ? await loadTrainingCheckpoint(options.checkpointDir) : undefined;
  if (resumed) checkFingerprint(resumed.state.fingerprint, fingerprint, `${options.checkpointDir}/last/trainer-state.json`);
  const startCheckpoint = resumed?.checkpoint ?? maskedStudent;

  // A teacher given as a checkpoint is built here and disposed at the end; a model is the caller's.
  let ownTeacher: TrainableModel | undefined;
  let teacher: ForwardModel | undefined;
  if (needsTeacher) {
    const t = options.teacher!;
    if (isCheckpoint(t)) {
      checkTeacherShape(startCheckpoint, t);
      teacher = ownTeacher = createModel(t);
    } else {
      checkTeacherShape(startCheckpoint, t);
      teacher = t;
    }
  }

  let student: TrainableModel;
  let optimizer: AdamW | undefined;
  let rewrites: LinearRewrites | undefined;
  try {
    student = createModel(startCheckpoint);
  } catch (error) {
    ownTeacher?.dispose();
    throw error;
  }
  const variables = student.trainableVariables();
  try {
    optimizer = new AdamW(variables, { weightDecay: options.weightDecay ?? 0 });
    if (resumed) optimizer.setState(resumed.optimizer, `${options.checkpointDir}/last/optimizer.safetensors`);
    rewrites = linearRewrites(startCheckpoint.config, rewriteOptions);
  } catch (error) {
    optimizer?.dispose();
    student.dispose();
    ownTeacher?.dispose();
    throw error;
  }
  const adamw = optimizer;
  const linearRewrite = rewrites;
  // Evaluation sees the model training optimises: quantized and masked like the student's forward passes.
  const evaluatedStudent = withLinearTransform(student, linearRewrite.transform);

  const lengths = train.map((ex) => ex.inputIds.length);
  const padId = padIdOf(startCheckpoint.config);
  const tokenTypes = hasTokenTypes(startCheckpoint.config);
  const dropout = options.dropout ?? true;
  const objectiveOptions = { weights, temperature, ...(options.tokenDistillation ? { token: options.tokenDistillation } : {}) };

  let step = resumed?.state.step ?? 0;
  let epoch = resumed?.state.epoch ?? -1;
  let batchInEpoch = resumed?.state.batchInEpoch ?? 0;
  let epochRngState = resumed?.state.epochRngState ?? new SeededRng(seed).state();
  let tokensSeen = resumed?.state.tokensSeen ?? 0;
  const elapsedBefore = resumed?.state.elapsedMs ?? 0;
  const history: EvaluationRecord[] = [...(resumed?.state.history ?? [])];
  let best: EvaluationRecord | undefined = resumed?.state.best;
  const resumedFrom = step;

  // The plan of the current epoch, rebuilt from the Rng state at its start when resuming.
  const rng = new SeededRng(epochRngState);
  let plan: number[][] | undefined = resumed ? planEpoch(lengths, rng, { batchSize, bucketBatches }) : undefined;
  if (resumed) options.onProgress?.({ type: 'resumed', step, path: `${options.checkpointDir}/last` });

  const sessionStart = performance.now();
  let sessionTokens = 0;
  let sessionStepMs = 0;
  const elapsed = () => elapsedBefore + (performance.now() - sessionStart);
  const currentState = (): TrainerState => ({
    format: TRAINER_STATE_FORMAT,
    step,
    totalSteps,
    epoch,
    batchInEpoch,
    epochRngState,
    tokensSeen,
    elapsedMs: elapsed(),
    fingerprint,
    history,
    ...(best ? { best } : {}),
  });
  const currentCheckpoint = (): Checkpoint => ({ config: startCheckpoint.config, weights: student.toWeights() });
  // The step `last/` holds, so a stop right after a scheduled checkpoint does not write the same state twice.
  let checkpointedStep = resumed ? step : -1;
  const writeCheckpoint = async () => {
    checkpointedStep = step;
    if (!options.checkpointDir) return;
    const path = await saveTrainingCheckpoint(options.checkpointDir, {
      checkpoint: currentCheckpoint(),
      optimizer: await adamw.state(),
      state: currentState(),
    });
    options.onProgress?.({ type: 'checkpoint', step, path });
  };
  const runEvaluation = async () => {
    if (!options.evaluate) return;
    const metrics = await options.evaluate(evaluatedStudent, step);
    const key = options.selectMetric ?? Object.keys(metrics)[0];
    if (key === undefined || !(key in metrics))
      throw new TrainingConfigError('selectMetric', `"${key}" is not among the evaluation metrics ${JSON.stringify(Object.keys(metrics))}`);
    const record: EvaluationRecord = { step, metrics: { ...metrics } };
    history.push(record);
    const value = metrics[key]!;
    const isBest = best === undefined || (higherIsBetter ? value > best.metrics[key]! : value < best.metrics[key]!);
    if (isBest) {
      best = record;
      if (options.checkpointDir) {
        // Atomic like `last/`: a crash while writing never leaves a half-written best model.
        await saveBestModel(options.checkpointDir, currentCheckpoint(), options.tokenizer ? { tokenizer: options.tokenizer } : {});
      }
    }
    options.onProgress?.({ type: 'evaluation', step, metrics: record.metrics, best: isBest });
  };

  /** Evaluations since the best one: all of them non-improving, in a row (the history is in step order). */
  const patienceSpent = () =>
    patience !== undefined && best !== undefined && history.filter((record) => record.step > best!.step).length >= patience;
  const budgetSpent = () => maxMilliseconds !== undefined && performance.now() - sessionStart >= maxMilliseconds;

  let stopReason: StopReason = 'completed';
  // A run that stopped for patience and is rerun with the same patience stops again without another update.
  if (step < totalSteps && patienceSpent()) stopReason = 'patience';
  try {
    while (step < totalSteps && stopReason === 'completed') {
      if (options.signal?.aborted) {
        stopReason = 'aborted';
        break;
      }
      if (plan === undefined || batchInEpoch >= plan.length) {
        epoch += 1;
        epochRngState = rng.state();
        plan = planEpoch(lengths, rng, { batchSize, bucketBatches });
        batchInEpoch = 0;
      }
      const stepStart = performance.now();
      const batch = makeBatch(train, plan[batchInEpoch]!, { task, padId, tokenTypes });
      const lr = schedule(step);
      let lossValue: number;
      let gradNorm: number;
      const termValues: { task?: number; logit?: number; token?: number } = {};
      try {
        // Teacher: inference mode, outside the tape; keep only what the objective reads.
        const teacherOut: ForwardOutputs | undefined = teacher
          ? tf.tidy(() => {
              const out = teacher!.forward(batch.inputs, { training: false });
              return { logits: out.logits, hiddenStates: weights.token > 0 ? [...out.hiddenStates] : [] };
            })
          : undefined;
        const parts: tf.Scalar[] = [];
        const partNames: Array<'task' | 'logit' | 'token'> = [];
        const { value, grads } = tf.variableGrads(() => {
          const out = student.forward(batch.inputs, {
            training: dropout,
            seed: mixSeed(seed, step),
            ...(linearRewrite.transform ? { linear: linearRewrite.transform } : {}),
          });
          const terms = distillationObjective(out, teacherOut, batch.targets, batch.inputs.attentionMask, objectiveOptions);
          for (const name of ['task', 'logit', 'token'] as const) {
            const t = terms[name];
            if (t) {
              parts.push(tf.keep(t));
              partNames.push(name);
            }
          }
          return terms.total;
        }, variables);
        if (teacherOut) tf.dispose([teacherOut.logits, ...teacherOut.hiddenStates]);
        const gradientList = variables.map((v) => grads[v.name]);
        if (Number.isFinite(maxGradNorm)) {
          const clipped = clipByGlobalNorm(gradientList, maxGradNorm);
          adamw.apply(clipped.gradients, lr);
          gradNorm = clipped.norm.dataSync()[0]!;
          tf.dispose([clipped.norm, ...clipped.gradients.filter((g): g is tf.Tensor => g !== undefined)]);
        } else {
          adamw.apply(gradientList, lr);
          gradNorm = tf.tidy(
            () =>
              tf
                .addN(gradientList.filter((g): g is tf.Tensor => g !== undefined).map((g) => g.square().sum()))
                .sqrt()
                .dataSync()[0]!,
          );
        }
        lossValue = value.dataSync()[0]!;
        parts.forEach((p, i) => {
          termValues[partNames[i]!] = p.dataSync()[0]!;
        });
        tf.dispose([value, ...Object.values(grads), ...parts]);
      } finally {
        disposeBatch(batch);
      }
      if (!Number.isFinite(lossValue)) {
        throw new TrainingConfigError(
          'learningRate',
          `training diverged at step ${step + 1}: loss ${lossValue} (lower the learning rate or clip gradients)`,
        );
      }
      step += 1;
      batchInEpoch += 1;
      tokensSeen += batch.tokens;
      sessionTokens += batch.tokens;
      sessionStepMs += performance.now() - stepStart;
      options.onProgress?.({
        type: 'step',
        step,
        totalSteps,
        epoch,
        loss: lossValue,
        terms: termValues,
        lr,
        gradNorm,
        tokens: batch.tokens,
        elapsedMs: elapsed(),
        tokensPerSecond: sessionStepMs > 0 ? (1000 * sessionTokens) / sessionStepMs : 0,
      });
      const last = step === totalSteps;
      const evaluateNow = options.evaluate !== undefined && ((evaluateEvery > 0 && step % evaluateEvery === 0) || last);
      if (evaluateNow) await runEvaluation();
      if ((checkpointEvery > 0 && step % checkpointEvery === 0) || last) await writeCheckpoint();
      if (last) break;
      if (patienceSpent()) stopReason = 'patience';
      else if (budgetSpent()) {
        stopReason = 'time-budget';
        // The model of the last update of the budget competes for best/ like any other.
        if (options.evaluate && !evaluateNow) await runEvaluation();
      }
    }
    if (stopReason !== 'completed') {
      // Stopped before the first update of a fresh run: there is nothing to resume, and rerunning starts over.
      if (checkpointedStep !== step && step > 0) await writeCheckpoint();
      options.onProgress?.({ type: 'stopped', step, totalSteps, reason: stopReason });
    }
  } catch (error) {
    student.dispose();
    adamw.dispose();
    linearRewrite.dispose();
    ownTeacher?.dispose();
    throw error;
  }
  adamw.dispose();
  linearRewrite.dispose();
  ownTeacher?.dispose();
  return {
    model: student,
    checkpoint: currentCheckpoint(),
    step,
    totalSteps,
    interrupted: stopReason === 'aborted',
    stopReason,
    history,
    ...(best ? { best } : {}),
    tokensSeen,
    elapsedMs: elapsed(),
    resumedFrom,
  };
}
