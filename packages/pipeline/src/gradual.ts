// Gradual ZipLM (the paper's main mode; docs site guide: apps/docs/guide/distillation.md, "Gradual
// pruning"): for targets in ascending order, build the level database on the CURRENT model (the
// previous member, pruned and fine-tuned), search levels no larger than its current sizes, stitch
// and shrink, fine-tune with distillation from the DENSE teacher (Table 7: L = λ1·task + λ2·logit +
// λ3·token), and save the member. Speedups are always relative to the dense model (one latency table
// for the whole family). Each step works in steps/<member>/ (database, resumable training
// checkpoints); a finished member is never redone.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  batchesPerEpoch,
  fineTune,
  type FineTuneOptions,
  lossWeightsFor,
  TABLE7_FINE_TUNING_DEFAULTS,
  taskFamilyOf,
  type LossWeights,
  type TaskFamily,
  type TrainingExample,
} from '@ziplm/distill';
import { writeDirectoryAtomic } from '@ziplm/core/node';
import { createModel, initBackend, loadModelDir, quantizableLinears, saveCheckpoint, type Checkpoint } from '@ziplm/models';
import type { RunOptions } from './context.js';
import { DEFAULT_FINE_TUNE_SEED } from './defaults.js';
import { RunDirectoryError, TaskDataError } from './errors.js';
import { hashString } from './internal/files.js';
import { checkInteger, checkPositive, optionError } from './internal/options.js';
import { memberName } from './internal/run-dir.js';
import { stitchModel } from './internal/stitch.js';
import type { RunResults } from './results.js';
import type { MemberRecord } from './results.js';
import { finishRun, openRun } from './run.js';
import { ensureDatabase, layerErrors } from './stages/database.js';
import { verifiesMembers } from './stages/table.js';
import type { QuantizationAwareTraining } from './stages/compound.js';
import { memberDir, resumeMember, saveMember } from './stages/members.js';
import { scoreMember } from './stages/score.js';
import { searchLevels } from './stages/search.js';
import { retimeInconclusive } from './stages/verify.js';
import type { PreparedTask } from './tasks/index.js';

/** Fine-tuning between pruning steps (defaults: the paper's Table 7 for the model type, @ziplm/distill's TABLE7_FINE_TUNING_DEFAULTS). */
export interface GradualFineTuneOptions {
  /** Epochs per pruning step (Table 7: 8 for BERT-base, 2 for GPT2). */
  epochs?: number;
  /** Peak learning rate, linear decay (Table 7: 8e-5 BERT-base, 1e-3 GPT2). */
  learningRate?: number;
  /** Batch size (Table 7: 32 GLUE, 16 SQuAD; GPT2 16 here instead of the paper's 128, for CPU memory). */
  batchSize?: number;
  /** Decoupled weight decay (Table 7: 0.03 BERT-base, 0 GPT2). */
  weightDecay?: number;
  /** Linear warm-up as a fraction of the updates (default 0: Table 7 lists linear decay only). */
  warmupRatio?: number;
  /** Distillation temperature (default @ziplm/distill's DEFAULT_TEMPERATURE). */
  temperature?: number;
  /** Fine-tune on at most this many training sequences (the low-data setting of the paper's Table 3). */
  trainSamples?: number;
  /** Seed of the training data sample, order and dropout (default 0). */
  seed?: number;
}

/** A setting of the loss weights; each variant is its own gradual family (e.g. the λ3 = 0 ablation). */
export interface GradualVariant {
  /** Shown in the report; absent for the main setting. */
  name?: string;
  /** λ1, λ2, λ3 overriding the task family's Table 7 weights. */
  weights?: Partial<LossWeights>;
}

export interface GradualOptions extends RunOptions {
  fineTune?: GradualFineTuneOptions;
  /** Default: one family with Table 7's weights. */
  variants?: readonly GradualVariant[];
}

/** The Table 7 column of a run: the model type, and for BERT the task (SQuAD or GLUE). */
function tableFamily(dense: Checkpoint, task: PreparedTask): TaskFamily {
  return taskFamilyOf(dense.config.modelType, task.kind);
}

/** The fine-tuning settings of a run: the options given, Table 7's defaults for the rest. */
function fineTuneSettings(dense: Checkpoint, task: PreparedTask, options: GradualFineTuneOptions) {
  const table7 = TABLE7_FINE_TUNING_DEFAULTS[tableFamily(dense, task)];
  return {
    epochs: options.epochs ?? table7.epochs,
    learningRate: options.learningRate ?? table7.learningRate,
    batchSize: options.batchSize ?? table7.batchSize,
    weightDecay: options.weightDecay ?? table7.weightDecay,
    warmupRatio: options.warmupRatio ?? table7.warmupRatio,
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    seed: options.seed ?? DEFAULT_FINE_TUNE_SEED,
  };
}

function lossWeights(dense: Checkpoint, task: PreparedTask, variant: GradualVariant): LossWeights {
  return lossWeightsFor(tableFamily(dense, task), variant.weights);
}

/** Checks the fine-tuning options and the variants before anything is loaded (OptionsError naming the option). */
export function checkGradualOptions(options: GradualOptions): void {
  const fine = options.fineTune ?? {};
  checkPositive(fine.epochs, 'fineTune.epochs');
  checkPositive(fine.learningRate, 'fineTune.learningRate');
  checkInteger(fine.batchSize, 'fineTune.batchSize', 1);
  checkPositive(fine.weightDecay, 'fineTune.weightDecay', true);
  checkPositive(fine.warmupRatio, 'fineTune.warmupRatio', true);
  if (fine.warmupRatio !== undefined && fine.warmupRatio >= 1)
    throw optionError('fineTune.warmupRatio', `must be below 1, got ${fine.warmupRatio}`);
  checkPositive(fine.temperature, 'fineTune.temperature');
  checkInteger(fine.trainSamples, 'fineTune.trainSamples', 1);
  checkInteger(fine.seed, 'fineTune.seed', 0);
  const variants = options.variants ?? [];
  const names = variants.map((v) => v.name ?? '');
  if (new Set(names).size !== names.length) throw optionError('variants', `must have distinct names, got ${JSON.stringify(names)}`);
  for (const v of variants) {
    for (const [key, w] of Object.entries(v.weights ?? {})) {
      if (!['task', 'logit', 'token'].includes(key))
        throw optionError('variants.weights', `has an unknown loss "${key}" (task, logit, token)`);
      checkPositive(w, 'variants.weights', true);
    }
  }
}

/** Runs gradual ZipLM and returns the results (also written to the run directory). */
export async function runGradual(options: GradualOptions): Promise<RunResults> {
  checkGradualOptions(options);
  const variants = options.variants?.length ? options.variants : [{}];
  const fine = options.fineTune ?? {};
  let settings!: ReturnType<typeof fineTuneSettings>;
  let train: TrainingExample[] = [];
  // What needs the model and the task is checked before the run directory is opened.
  const ctx = await openRun(
    options,
    'gradual',
    { fineTune: fine, variants: variants.map((v) => ({ name: v.name ?? null, weights: v.weights ?? null })) },
    (dense, task) => {
      settings = fineTuneSettings(dense, task, fine);
      for (const variant of variants) {
        const w = lossWeights(dense, task, variant);
        if (!(w.task + w.logit + w.token > 0))
          throw optionError(
            'variants.weights',
            `must have at least one positive loss weight, got λ = ${w.task}, ${w.logit}, ${w.token}${variant.name ? ` (variant "${variant.name}")` : ''}`,
          );
      }
      train = task.training(fine.trainSamples, settings.seed).map((item) => ({
        inputIds: item.ids,
        typeIds: item.typeIds,
        ...(item.label !== undefined ? { label: item.label } : {}),
        ...(item.startPosition !== undefined ? { startPosition: item.startPosition, endPosition: item.endPosition! } : {}),
      }));
      if (train.length === 0)
        throw new TaskDataError(task.files[0] ?? task.name, `task "${task.name}" has no training data for fine-tuning`);
      const batches = batchesPerEpoch(train.length, settings.batchSize);
      if (Math.round(settings.epochs * batches) < 1)
        throw optionError('fineTune.epochs', `gives no update: ${settings.epochs} epochs of ${batches} batches round to 0 steps`);
    },
  );
  const { run, dense, tokenizer, task, emit, identity } = ctx;
  /** Where a compound run keeps each member's FP32 model (the next gradual step starts from it, not from the INT8 member). */
  const fp32Dir = (name: string) => run.path('steps', name, 'fp32');
  const fp32Files = (name: string) => `steps/${name}/fp32`;
  /** Writes a compound member's FP32 model, its files' sizes and hashes recorded in the manifest first. */
  const saveFp32Model = (name: string, model: Checkpoint) =>
    writeDirectoryAtomic(fp32Dir(name), async (tmp) => {
      await saveCheckpoint(tmp, model, { tokenizer });
      for (const file of (await readdir(tmp)).sort()) await run.recordFile(`${fp32Files(name)}/${file}`, await readFile(join(tmp, file)));
    });
  /** Checks every recorded file of a finished compound member's FP32 model (RunDirectoryError naming the file). */
  const checkFp32Model = async (name: string, memberPath: string) => {
    const remedy = `remove ${memberPath} to recompute this member`;
    const recorded = Object.keys(run.manifest.files ?? {}).filter((file) => file.startsWith(`${fp32Files(name)}/`));
    if (recorded.length === 0)
      throw new RunDirectoryError(fp32Dir(name), `the FP32 model of this compound member has no recorded files; ${remedy}`);
    for (const file of recorded) await run.checkFile(file, remedy);
  };
  /**
   * Quantization-aware fine-tuning of a compound member (guide/compound-compression.md): the same
   * distillation from the dense teacher as the step's fine-tuning, for `compound.qatEpochs` epochs,
   * with the quantized linears' weights fake-quantized to INT8 and the sparse zeros kept.
   */
  const qatFor =
    (target: number, variant: GradualVariant, weights: LossWeights): QuantizationAwareTraining =>
    (start, masks) =>
      distill(start.checkpoint, weights, join(run.path('steps', memberName('ziplm', target, variant.name)), 'qat'), `qat ${target}x`, {
        epochs: ctx.compound!.qatEpochs,
        qat: {
          weights: quantizableLinears(start.checkpoint.config).map((l) => l.weight),
          activations: ctx.compound!.activations === 'dynamic',
        },
        ...(masks ? { masks } : {}),
      });
  let teacher!: ReturnType<typeof createModel>;
  /**
   * The fine-tuning of a gradual run (the step's, and QAT's with `extra`): distillation of `student` from the
   * dense teacher on the run's training data with the run's settings, checkpointed every epoch into
   * `checkpointDir`; progress goes to `progressStage`, and `onResumed` hears a resume. Returns the trained checkpoint.
   */
  const distill = async (
    student: Checkpoint,
    weights: LossWeights,
    checkpointDir: string,
    progressStage: string,
    extra: Pick<FineTuneOptions, 'epochs' | 'qat' | 'masks'> = {},
    onResumed?: (step: number) => void,
  ): Promise<Checkpoint> => {
    const result = await fineTune({
      task: task.kind,
      student,
      teacher,
      train,
      ...settings,
      ...extra,
      weights,
      tokenizer,
      checkpointDir,
      checkpointEvery: batchesPerEpoch(train.length, settings.batchSize),
      onProgress: (e) => {
        if (e.type === 'step') emit({ kind: 'progress', stage: progressStage, done: e.step, total: e.totalSteps });
        else if (e.type === 'resumed') onResumed?.(e.step);
      },
    });
    result.model.dispose();
    return result.checkpoint;
  };
  {
    const tokens = train.reduce((n, e) => n + e.inputIds.length, 0);
    const perMember = Math.round(settings.epochs * tokens);
    const members = ctx.targets.length * variants.length;
    emit({
      kind: 'stage',
      stage: 'plan',
      message: `plan: fine-tuning ${settings.epochs} epochs on ${train.length} sequences (${tokens} tokens) per member: ${perMember} tokens each, ${perMember * members} for ${members} members`,
    });
  }
  // The run directory's lock is released however the run ends.
  try {
    // A training checkpoint after every epoch: a killed fine-tuning resumes from its last epoch.
    await initBackend();
    teacher = createModel(dense); // inference only: fineTune runs it without tape or dropout
    const records: MemberRecord[] = [];
    try {
      for (const variant of variants) {
        const weights = lossWeights(dense, task, variant);
        let current: Checkpoint = dense;
        let currentId = identity.model.sha256;
        for (const target of ctx.targets) {
          const dir = memberDir(run, 'ziplm', target, variant.name);
          const name = memberName('ziplm', target, variant.name);
          const stored = await resumeMember(run, dir);
          if (stored) {
            // An inconclusive verdict is re-timed with the pending members (finishRun), not replayed.
            const existing = verifiesMembers(ctx, options.verify) ? retimeInconclusive(ctx, stored) : stored;
            records.push(existing);
            emit({ kind: 'member', member: existing, resumed: true });
            // A compound member ships quantized weights; the next step continues from its FP32 model,
            // checked against the sizes and hashes recorded when it was written.
            if (ctx.compound) await checkFp32Model(name, dir);
            current = (await loadModelDir(ctx.compound ? fp32Dir(name) : dir)).checkpoint;
            currentId = hashString(`${currentId}:${name}`);
            continue;
          }
          const stepDir = run.path('steps', name);
          const fingerprint = `${currentId}:${JSON.stringify(identity.data)}:${identity.calibration.samples}:${identity.calibration.seed}`;
          const db = await ensureDatabase(ctx, current, join(stepDir, 'database'), 'obs', fingerprint);
          const errors = await layerErrors(db, current.config);
          emit({ kind: 'stage', stage: 'search', message: `${variant.name ?? 'ziplm'} ${target}x: searching from the current model` });
          const { choice, info } = await searchLevels(ctx, 'ziplm', current, db, errors, target, current.config);
          const { checkpoint: pruned, kept } = await stitchModel(current, db, choice);

          emit({
            kind: 'stage',
            stage: 'fine-tune',
            message: `${variant.name ?? 'ziplm'} ${target}x: fine-tuning ${settings.epochs} epochs on ${train.length} sequences (λ = ${weights.task}, ${weights.logit}, ${weights.token})`,
          });
          const trained = await distill(pruned, weights, join(stepDir, 'train'), `fine-tune ${target}x`, {}, (step) =>
            emit({
              kind: 'stage',
              stage: 'fine-tune',
              message: `${variant.name ?? 'ziplm'} ${target}x: resuming fine-tuning from the checkpoint at step ${step}`,
            }),
          );
          // Written before the member, so that a resumed run always finds the FP32 model of a finished compound member.
          if (ctx.compound) await saveFp32Model(name, trained);
          const scores = await scoreMember(ctx, trained, `evaluate ${target}x`);
          const record = await saveMember(ctx, {
            method: 'ziplm',
            ...(variant.name ? { variant: variant.name } : {}),
            target,
            choice,
            search: info,
            checkpoint: trained,
            kept,
            ...(scores ? { scores } : {}),
            ...(ctx.compound && ctx.compound.qatEpochs > 0 ? { qat: qatFor(target, variant, weights) } : {}),
          });
          records.push(record);
          emit({ kind: 'member', member: record });
          current = trained;
          currentId = hashString(`${currentId}:${name}`);
        }
      }
    } finally {
      teacher.dispose();
    }
    return await finishRun(ctx, records, options);
  } finally {
    await run.close();
  }
}
