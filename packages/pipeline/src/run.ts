// What one-shot and gradual runs share: opening the run (model, task, environment, latency table,
// run directory), the dense model's scores, building a level database for a model, the search
// (DP, refined by SPDY), verification and the final results.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createJsMatMulEngine, type HessianStatistics, type LayerErrors, type MatMulEngine } from '@ziplm/hessian';
import {
  describeEnvironment,
  searchForSpeedup,
  searchUniform,
  spdySearch,
  type InferenceEnvironment,
  type InferenceEnvironmentOptions,
  type LatencyTable,
  type LayerShapes,
  type SearchResult,
} from '@ziplm/latency';
import { exportModelToOnnx, loadModelDir, type Checkpoint, type ModelConfig, type Tokenizer } from '@ziplm/models';
import { createOrtMatMulEngine, createSession, loadOrt } from '@ziplm/onnx/runtime';
import { collectHessians } from './calibrate.js';
import { buildLevelDatabase, missingModules, type LevelDatabase, type SweepMethod } from './database.js';
import { hashFile, writeJsonAtomic } from './files.js';
import { obtainLatencyTable, verifyMembers } from './latency.js';
import { layerParameterCount, scoreCheckpoint, updateMember, type MemberRecord } from './members.js';
import { checkChoice, checkEnvironment, checkInteger, checkPositive, checkTargets, optionError } from './options.js';
import { writeRunReport } from './report-io.js';
import type { Comparison, MemberResult, PruningMethod, RunResults } from './results.js';
import { RunDirectory, type RunIdentity } from './run-dir.js';
import { pairedComparison } from './stats.js';
import { stitchModel } from './stitch.js';
import { defaultTask, prepareTask, TASK_NAMES, type PreparedTask, type Scores, type TaskName } from './tasks.js';

/** Progress of a pipeline run, for a CLI or a UI. */
export type PipelineEvent =
  | { readonly kind: 'stage'; readonly stage: string; readonly message: string }
  | { readonly kind: 'progress'; readonly stage: string; readonly done: number; readonly total: number }
  | { readonly kind: 'warning'; readonly message: string }
  /** A finished member; `resumed` when an earlier attempt finished it and it was read back from the run directory. */
  | { readonly kind: 'member'; readonly member: MemberResult; readonly resumed?: boolean };

/** SPDY settings (method doc §6.3); `false` means the plain DP. */
export type SpdySettings = false | { randomInits?: number; steps?: number; seed?: number };

/** Options every run takes. */
export interface RunOptions {
  /** Model directory (config.json, model.safetensors, vocabulary): the dense model. */
  modelDir: string;
  /** Run directory (created; resumed when it exists for the same model and settings). */
  runDir: string;
  /** Speedup targets relative to the dense model. */
  targets: readonly number[];
  /** Default: the model's natural dataset when present (SST-2, WikiText, SQuAD), else the built-in samples. */
  task?: TaskName;
  /** The inference environment the speedups are for (default: latency mode, batch 1, sequence 128). */
  environment?: InferenceEnvironmentOptions;
  /** Use this latency table instead of measuring one (it is copied into the run directory). */
  tablePath?: string;
  /** Calibration sequences (default: the paper's Table 7, 2048 for BERT, 512 for GPT2) and the seed of their sample (default 42). */
  calibrationSamples?: number;
  seed?: number;
  /**
   * SPDY refinement of the search (method doc §6.3; the reference's one-shot default): DP solutions
   * for random per-module error coefficients are scored by the calibration task loss of the stitched
   * model and the best is kept. `false` uses the plain DP. Default { randomInits: 10, steps: 10 }.
   */
  spdy?: SpdySettings;
  /** Score every member on the task (default true). */
  evaluate?: boolean;
  /** Score on at most this many evaluation items (default: all). */
  evalLimit?: number;
  /** Re-time every member against the dense model (default true). */
  verify?: boolean;
  /** Allowed shortfall of measured vs target speedup (default 0.02). */
  tolerance?: number;
  /**
   * One-shot only: rounds of re-searching members whose measured speedup is off the target by more
   * than the tolerance, with the search target scaled by target / measured (default 2; 0 = never).
   * Needs `verify`.
   */
  retarget?: number;
  /** GEMM engine for Hessians and OBS: onnxruntime (default) or plain TypeScript. */
  engine?: 'onnxruntime' | 'js';
  /** Latency table protocol overrides (tests use fewer rounds). */
  tableRounds?: { minRounds?: number; maxRounds?: number };
  onEvent?: (event: PipelineEvent) => void;
}

/** Everything loaded once per run. */
export interface RunContext {
  readonly run: RunDirectory;
  readonly identity: RunIdentity;
  readonly dense: Checkpoint;
  readonly tokenizer: Tokenizer;
  readonly task: PreparedTask;
  readonly env: InferenceEnvironment;
  readonly table: LatencyTable;
  readonly engine: MatMulEngine;
  readonly targets: number[];
  readonly spdy: SpdySettings;
  /** The dense model's scores (when evaluating). */
  readonly denseScores?: Scores;
  readonly emit: (event: PipelineEvent) => void;
  /** The dense model's predictions on the SPDY loss items (labels where the task has none). */
  densePredictions(): Promise<Int32Array>;
}

export async function matMulEngine(kind: 'onnxruntime' | 'js' = 'onnxruntime'): Promise<MatMulEngine> {
  return kind === 'js' ? createJsMatMulEngine() : createOrtMatMulEngine();
}

/** sha256 over the model's config and weights. */
export async function modelHash(dir: string): Promise<string> {
  const config = await hashFile(join(dir, 'config.json'));
  const weights = await hashFile(join(dir, 'model.safetensors'));
  return `${config.slice(0, 32)}${weights.slice(0, 32)}`;
}

/** Calibration sample sizes of the paper (Table 7): 2048 sequences for BERT, 512 for GPT2. */
export function defaultCalibrationSamples(config: ModelConfig): number {
  return config.modelType === 'gpt2' ? 512 : 2048;
}

/**
 * Checks the options every run takes before anything is loaded or written: an invalid one is an
 * OptionsError naming the option and its `ziplm` flag. Returns the targets (ascending, distinct) and
 * the inference environment.
 */
export function checkRunOptions(options: RunOptions): { targets: number[]; env: InferenceEnvironment } {
  const targets = checkTargets(options.targets);
  checkChoice(options.task, 'task', TASK_NAMES);
  checkInteger(options.calibrationSamples, 'calibrationSamples', 1);
  checkInteger(options.seed, 'seed', 0);
  checkInteger(options.evalLimit, 'evalLimit', 1);
  checkPositive(options.tolerance, 'tolerance', true);
  if (options.tolerance !== undefined && options.tolerance >= 1) throw optionError('tolerance', `must be below 1 (a shortfall of 100% would pass anything), got ${options.tolerance}`);
  checkChoice(options.engine, 'engine', ['onnxruntime', 'js']);
  checkInteger(options.retarget, 'retarget', 0);
  if (options.spdy !== undefined && options.spdy !== false) {
    if (typeof options.spdy !== 'object' || options.spdy === null) throw optionError('spdy', `must be false or { randomInits, steps, seed }, got ${JSON.stringify(options.spdy)}`);
    checkInteger(options.spdy.randomInits, 'spdy.randomInits', 0);
    checkInteger(options.spdy.steps, 'spdy.steps', 0);
    checkInteger(options.spdy.seed, 'spdy.seed', 0);
  }
  if (options.tableRounds) {
    const { minRounds, maxRounds } = options.tableRounds;
    checkInteger(minRounds, 'tableRounds.minRounds', 1);
    checkInteger(maxRounds, 'tableRounds.maxRounds', 1);
    if (minRounds !== undefined && maxRounds !== undefined && maxRounds < minRounds) throw optionError('tableRounds.maxRounds', `must be >= minRounds (${minRounds}), got ${maxRounds}`);
  }
  return { targets, env: checkEnvironment(options.environment) };
}

/**
 * Loads the model and the task, opens (or resumes) the run directory, and gets the latency table and
 * the dense scores. `check` sees the model and the task before the run directory is opened (a mode's
 * own option checks that need them), so a refused run writes nothing.
 */
export async function openRun(
  options: RunOptions,
  mode: RunIdentity['mode'],
  settings: Record<string, unknown>,
  check?: (dense: Checkpoint, task: PreparedTask) => void,
): Promise<RunContext> {
  const emit = options.onEvent ?? (() => {});
  const { targets, env } = checkRunOptions(options);
  emit({ kind: 'stage', stage: 'load', message: `loading ${options.modelDir}` });
  const { checkpoint: dense, tokenizer } = await loadModelDir(options.modelDir);
  if (env.mode === 'generation' && dense.config.modelType !== 'gpt2') {
    throw optionError('environment.mode', `"generation" (one token at a time with a KV cache) needs a GPT2 model; ${options.modelDir} is a ${dense.config.modelType} model`);
  }
  const calibration = { samples: options.calibrationSamples ?? defaultCalibrationSamples(dense.config), seed: options.seed ?? 42 };
  const taskName = options.task ?? defaultTask(dense.config);
  const task = prepareTask(taskName, dense.config, tokenizer, { calibrationSamples: calibration.samples, seed: calibration.seed, evalLimit: options.evalLimit });
  check?.(dense, task);
  const spdy = options.spdy === undefined ? {} : options.spdy;
  const identity: RunIdentity = {
    mode,
    model: { sha256: await modelHash(options.modelDir), modelType: dense.config.modelType },
    task: taskName,
    data: await Promise.all(task.files.map(async (file) => ({ file: file.split(/[\\/]/).slice(-2).join('/'), sha256: await hashFile(file) }))),
    calibration,
    environment: { ...env },
    settings: { evalLimit: options.evalLimit ?? null, spdy, ...settings },
  };
  const run = await RunDirectory.open(options.runDir, identity);
  const engine = await matMulEngine(options.engine);
  const table = await obtainLatencyTable(run, dense, env, { tablePath: options.tablePath, emit, rounds: options.tableRounds });

  let denseScores: Scores | undefined;
  if (options.evaluate ?? true) {
    const file = run.path('dense-scores.json');
    if (existsSync(file)) {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { metric: number; predictions?: number[] };
      denseScores = { metric: saved.metric, ...(saved.predictions ? { predictions: Int32Array.from(saved.predictions) } : {}) };
    } else {
      emit({ kind: 'stage', stage: 'evaluate', message: `scoring the dense model (${task.metric.label})` });
      denseScores = await scoreCheckpoint(dense, task, undefined, (done, total) => emit({ kind: 'progress', stage: 'evaluate dense', done, total }));
      await writeJsonAtomic(file, { metric: denseScores.metric, ...(denseScores.predictions ? { predictions: [...denseScores.predictions] } : {}) });
    }
  }

  let predictions: Int32Array | undefined;
  const densePredictions = async () => {
    if (!predictions) {
      const ort = await loadOrt();
      const session = await createSession(exportModelToOnnx(dense));
      try {
        predictions = (await task.calibrationLoss(session, ort)).predictions;
      } finally {
        await session.release();
      }
    }
    return predictions;
  };
  run.manifest.targets = [...new Set([...run.manifest.targets, ...targets])].sort((a, b) => a - b);
  return { run, identity, dense, tokenizer, task, env, table, engine, targets, spdy, emit, densePredictions, ...(denseScores ? { denseScores } : {}) };
}

/**
 * Builds (or resumes) the level database of `model` in `dir`: calibrates only the modules whose file
 * is missing (the calibration sequences run through `model` itself), then sweeps them.
 */
export async function ensureDatabase(ctx: RunContext, model: Checkpoint, dir: string, method: SweepMethod, fingerprint: string): Promise<LevelDatabase> {
  const missing = await missingModules(dir, model);
  let hessians: Map<string, HessianStatistics> = new Map();
  if (missing.size > 0) {
    ctx.emit({ kind: 'stage', stage: 'calibrate', message: `calibrating ${missing.size} modules on ${ctx.task.calibration.length} sequences (${ctx.task.name})` });
    hessians = await collectHessians(model, ctx.task.calibration, ctx.tokenizer.padId, await loadOrt(), {
      engine: ctx.engine,
      only: missing,
      onProgress: (done, total) => ctx.emit({ kind: 'progress', stage: 'calibrate', done, total }),
    });
  }
  ctx.emit({ kind: 'stage', stage: 'database', message: `${method === 'obs' ? 'structured OBS' : 'magnitude'} level database (${missing.size} modules to build)` });
  return buildLevelDatabase(dir, model, hessians, {
    engine: ctx.engine,
    method,
    fingerprint,
    onModule: (e) => ctx.emit({ kind: 'progress', stage: 'database', done: e.done, total: e.total }),
  });
}

/**
 * The levels for one target on `base` (the dense model, or the current model in gradual mode): the
 * DP (uniform: the best shared shape), refined by SPDY when enabled. Every method gets the same
 * search procedure over its own candidates.
 */
export async function searchLevels(
  ctx: RunContext,
  method: PruningMethod,
  base: Checkpoint,
  db: LevelDatabase,
  errors: LayerErrors[],
  target: number,
  current?: LayerShapes,
): Promise<{ choice: SearchResult; info: NonNullable<MemberResult['search']> }> {
  const solve = method === 'uniform' ? searchUniform : searchForSpeedup;
  const options = { target, ...(current ? { current } : {}) };
  const spdy = ctx.spdy;
  if (spdy === false) return { choice: solve(ctx.table, errors, options), info: { procedure: 'dp' } };
  const ort = await loadOrt();
  const pseudoLabels = await ctx.densePredictions();
  const inits = spdy.randomInits ?? 10;
  const steps = spdy.steps ?? 10;
  const result = await spdySearch(ctx.table, errors, {
    ...options,
    solve,
    seed: spdy.seed ?? 0,
    randomInits: inits,
    steps,
    score: async (solution) => {
      const { checkpoint } = await stitchModel(base, db, solution);
      const session = await createSession(exportModelToOnnx(checkpoint));
      try {
        return (await ctx.task.calibrationLoss(session, ort, pseudoLabels)).loss;
      } finally {
        await session.release();
      }
    },
    onProgress: (e) => ctx.emit({ kind: 'progress', stage: `spdy ${method} ${target}x`, done: e.phase === 'init' ? e.index + 1 : inits + e.index + 1, total: inits + steps }),
  });
  return { choice: result.best, info: { procedure: 'spdy', plainLoss: result.plainScore, loss: result.score, evaluations: result.evaluations } };
}

/** Paired comparisons at every target: each member vs the dense model, and ZipLM vs each baseline. */
export function compareMembers(records: readonly MemberRecord[], dense: ArrayLike<number>, labels: ArrayLike<number>): Comparison[] {
  const out: Comparison[] = [];
  const withPredictions = records.filter((r) => r.predictions);
  for (const r of withPredictions) {
    const base = { target: r.target, method: r.method, ...(r.variant ? { variant: r.variant } : {}) };
    out.push({ ...base, baseline: 'dense', ...pairedComparison(r.predictions!, dense, labels) });
    for (const other of withPredictions) {
      if (r.method !== 'ziplm' || other.target !== r.target || other.method === 'ziplm' || other.variant) continue;
      out.push({ ...base, baseline: other.method, ...pairedComparison(r.predictions!, other.predictions!, labels) });
    }
  }
  return out;
}

/** Verifies the members not yet re-timed, then writes results.json and the report. */
/** Re-times the members of `records` that have no measured speedup yet (in place, and in their member.json). */
export async function verifyPending(ctx: RunContext, records: MemberRecord[], tolerance: number): Promise<void> {
  const unverified = records.filter((r) => r.measuredSpeedup === undefined);
  if (unverified.length === 0) return;
  ctx.emit({ kind: 'stage', stage: 'verify', message: `re-timing ${unverified.length} members against the dense model` });
  const verified = await verifyMembers(ctx, unverified, tolerance);
  for (const v of verified) {
    await updateMember(ctx.run.path(v.dir), v);
    records[records.findIndex((r) => r.dir === v.dir)] = v;
  }
}

export async function finishRun(ctx: RunContext, records: MemberRecord[], options: Pick<RunOptions, 'verify' | 'tolerance'>): Promise<RunResults> {
  const { run, dense, task, env, table, emit, denseScores } = ctx;
  if (options.verify ?? true) await verifyPending(ctx, records, options.tolerance ?? 0.02);
  const results: RunResults = {
    format: 'ziplm-run-results',
    version: 1,
    mode: ctx.identity.mode,
    task: task.name,
    metric: task.metric,
    model: {
      modelType: dense.config.modelType,
      numLayers: dense.config.numLayers,
      hiddenSize: dense.config.hiddenSize,
      numHeads: dense.config.numHeads,
      intermediateSize: dense.config.intermediateSize,
      layerParameters: layerParameterCount(dense.config),
    },
    environment: describeEnvironment(env),
    dense: { timeMs: table.dense.median, ...(denseScores ? { metric: denseScores.metric } : {}) },
    members: records.map(({ keptHeads: _h, keptNeurons: _n, predictions: _p, ...member }) => member),
    notes: [...task.notes],
    ...(task.evaluationLabels && denseScores?.predictions ? { comparisons: compareMembers(records, denseScores.predictions, task.evaluationLabels) } : {}),
  };
  await writeRunReport(run, results);
  emit({ kind: 'stage', stage: 'report', message: `report written to ${run.path('report.md')}` });
  return results;
}
