// One-shot ZipLM (method doc §1, `oneshot_prune`): latency table → calibration → level database →
// search per target → stitch + shrink → export → score → verify → report. Every stage writes its
// output into the run directory and is skipped on a rerun when that output is complete.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayerErrors, MatMulEngine } from '@ziplm/hessian';
import { createJsMatMulEngine } from '@ziplm/hessian';
import {
  describeEnvironment,
  inferenceEnvironment,
  searchForSpeedup,
  searchUniform,
  type InferenceEnvironment,
  type InferenceEnvironmentOptions,
  type LatencyTable,
  type SearchResult,
} from '@ziplm/latency';
import { loadModelDir, type Checkpoint, type Tokenizer } from '@ziplm/models';
import { createOrtMatMulEngine, loadOrt } from '@ziplm/onnx/runtime';
import { collectHessians } from './calibrate.js';
import { buildLevelDatabase, missingModules, type LevelDatabase } from './database.js';
import { hashFile, writeJsonAtomic } from './files.js';
import { layerParameterCount, memberDir, readMember, scoreCheckpoint, updateMember, writeMember, type MemberRecord } from './members.js';
import { obtainLatencyTable, verifyMembers } from './latency.js';
import type { MemberResult, PruningMethod, RunResults } from './results.js';
import { RunDirectory, type RunIdentity } from './run-dir.js';
import { stitchModel } from './stitch.js';
import { defaultTask, prepareTask, type PreparedTask, type Scores, type TaskName } from './tasks.js';
import { writeRunReport } from './report-io.js';

/** Progress of a pipeline run, for a CLI or a UI. */
export type PipelineEvent =
  | { readonly kind: 'stage'; readonly stage: string; readonly message: string }
  | { readonly kind: 'progress'; readonly stage: string; readonly done: number; readonly total: number }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'member'; readonly member: MemberResult };

export interface OneShotOptions {
  /** Model directory (config.json, model.safetensors, vocabulary). */
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
  /** Methods to run (default ['ziplm']); 'magnitude' and 'uniform' are the baselines. */
  methods?: readonly PruningMethod[];
  /** Calibration sequences (default 512) and the seed of their sample (default 42). */
  calibrationSamples?: number;
  seed?: number;
  /** Score every member on the task (default true). */
  evaluate?: boolean;
  /** Score on at most this many evaluation items (default: all). */
  evalLimit?: number;
  /** Re-time every member against the dense model (default true). */
  verify?: boolean;
  /** Allowed shortfall of measured vs target speedup (default 0.02). */
  tolerance?: number;
  /** GEMM engine for Hessians and OBS: onnxruntime (default) or plain TypeScript. */
  engine?: 'onnxruntime' | 'js';
  /** Latency table protocol overrides (tests use fewer rounds). */
  tableRounds?: { minRounds?: number; maxRounds?: number };
  onEvent?: (event: PipelineEvent) => void;
}

/** Everything loaded once per run. */
export interface RunContext {
  readonly run: RunDirectory;
  readonly dense: Checkpoint;
  readonly tokenizer: Tokenizer;
  readonly task: PreparedTask;
  readonly env: InferenceEnvironment;
  readonly table: LatencyTable;
  readonly engine: MatMulEngine;
  readonly emit: (event: PipelineEvent) => void;
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

const METHODS: readonly PruningMethod[] = ['ziplm', 'magnitude', 'uniform'];

function checkTargets(targets: readonly number[]): number[] {
  if (targets.length === 0) throw new RangeError('at least one speedup target is needed');
  for (const t of targets) if (!(Number.isFinite(t) && t > 1)) throw new RangeError(`speedup targets must be numbers > 1, got ${t}`);
  return [...new Set(targets)].sort((a, b) => a - b);
}

/** Builds (or resumes) the level database of one sweep method on the dense model. */
async function ensureDatabase(ctx: RunContext, method: 'obs' | 'magnitude', fingerprint: string): Promise<LevelDatabase> {
  const dir = ctx.run.path(method === 'obs' ? 'database' : 'database-magnitude');
  const missing = await missingModules(dir, ctx.dense);
  let hessians = new Map();
  if (missing.size > 0) {
    ctx.emit({ kind: 'stage', stage: 'calibrate', message: `calibrating ${missing.size} modules on ${ctx.task.calibration.length} sequences (${ctx.task.name})` });
    const ort = await loadOrt();
    hessians = await collectHessians(ctx.dense, ctx.task.calibration, ctx.tokenizer.padId, ort, {
      engine: ctx.engine,
      only: missing,
      onProgress: (done, total) => ctx.emit({ kind: 'progress', stage: 'calibrate', done, total }),
    });
  }
  ctx.emit({ kind: 'stage', stage: 'database', message: `${method === 'obs' ? 'structured OBS' : 'magnitude'} level database (${missing.size} modules to build)` });
  return buildLevelDatabase(dir, ctx.dense, hessians, {
    engine: ctx.engine,
    method,
    fingerprint,
    onModule: (e) => ctx.emit({ kind: 'progress', stage: 'database', done: e.done, total: e.total }),
  });
}

function search(method: PruningMethod, table: LatencyTable, errors: LayerErrors[], target: number): SearchResult {
  return method === 'uniform' ? searchUniform(table, errors, { target }) : searchForSpeedup(table, errors, { target });
}

/** Runs one-shot ZipLM and returns the results (also written to the run directory). */
export async function runOneShot(options: OneShotOptions): Promise<RunResults> {
  const emit = options.onEvent ?? (() => {});
  const targets = checkTargets(options.targets);
  const methods = [...new Set<PruningMethod>(options.methods ?? ['ziplm'])];
  for (const m of methods) if (!METHODS.includes(m)) throw new RangeError(`unknown method "${m}" (methods: ${METHODS.join(', ')})`);
  const calibration = { samples: options.calibrationSamples ?? 512, seed: options.seed ?? 42 };

  emit({ kind: 'stage', stage: 'load', message: `loading ${options.modelDir}` });
  const { checkpoint: dense, tokenizer } = await loadModelDir(options.modelDir);
  const taskName = options.task ?? defaultTask(dense.config);
  const task = prepareTask(taskName, dense.config, tokenizer, { calibrationSamples: calibration.samples, seed: calibration.seed, evalLimit: options.evalLimit });
  const env = inferenceEnvironment(options.environment ?? {});
  const identity: RunIdentity = {
    mode: 'oneshot',
    model: { sha256: await modelHash(options.modelDir), modelType: dense.config.modelType },
    task: taskName,
    data: await Promise.all(task.files.map(async (file) => ({ file: file.split(/[\\/]/).slice(-2).join('/'), sha256: await hashFile(file) }))),
    calibration,
    environment: { ...env },
    settings: { evalLimit: options.evalLimit ?? null },
  };
  const run = await RunDirectory.open(options.runDir, identity);
  const engine = await matMulEngine(options.engine);
  const table = await obtainLatencyTable(run, dense, env, { tablePath: options.tablePath, emit, rounds: options.tableRounds });
  const ctx: RunContext = { run, dense, tokenizer, task, env, table, engine, emit };
  const dbFingerprint = `${identity.model.sha256}:${JSON.stringify(identity.data)}:${calibration.samples}:${calibration.seed}`;

  // Dense score (cached: the agreement metric compares members with it).
  const evaluate = options.evaluate ?? true;
  let denseScores: Scores | undefined;
  if (evaluate) {
    const file = run.path('dense-scores.json');
    if (existsSync(file)) {
      const saved = JSON.parse(await readFile(file, 'utf8')) as { metric: number; predictions?: number[] };
      denseScores = { metric: saved.metric, ...(saved.predictions ? { predictions: Int32Array.from(saved.predictions) } : {}) };
    } else {
      emit({ kind: 'stage', stage: 'evaluate', message: `scoring the dense model (${task.metric.label})` });
      denseScores = await scoreCheckpoint(dense, task);
      await writeJsonAtomic(file, { metric: denseScores.metric, ...(denseScores.predictions ? { predictions: [...denseScores.predictions] } : {}) });
    }
  }

  const databases = new Map<'obs' | 'magnitude', LevelDatabase>();
  const database = async (method: 'obs' | 'magnitude') => {
    if (!databases.has(method)) databases.set(method, await ensureDatabase(ctx, method, dbFingerprint));
    return databases.get(method)!;
  };

  run.manifest.targets = [...new Set([...run.manifest.targets, ...targets])].sort((a, b) => a - b);
  const records: MemberRecord[] = [];
  for (const method of methods) {
    const db = await database(method === 'magnitude' ? 'magnitude' : 'obs');
    const errors = await db.toLayerErrors();
    for (const target of targets) {
      const dir = memberDir(run, method, target);
      const existing = await readMember(dir);
      if (existing) {
        records.push(existing);
        emit({ kind: 'member', member: existing });
        continue;
      }
      emit({ kind: 'stage', stage: 'search', message: `${method}: searching ${target}x` });
      const choice = search(method, table, errors, target);
      const { checkpoint: pruned, kept } = await stitchModel(dense, db, choice);
      let metric: number | undefined;
      if (evaluate) {
        emit({ kind: 'stage', stage: 'evaluate', message: `${method} ${target}x: scoring` });
        metric = (await scoreCheckpoint(pruned, task, denseScores)).metric;
      }
      const record: MemberRecord = {
        method,
        target,
        predictedSpeedup: choice.predictedSpeedup,
        searchError: choice.totalError,
        layerHeads: choice.layerHeads,
        layerIntermediate: choice.layerIntermediate,
        layerParameters: layerParameterCount(pruned.config),
        dir: `members/${dir.split(/[\\/]/).pop()}`,
        keptHeads: kept.heads,
        keptNeurons: kept.neurons,
        ...(metric !== undefined ? { metric } : {}),
      };
      await writeMember(dir, pruned, tokenizer, env, record);
      await run.recordMember({
        name: record.dir,
        method,
        target,
        layerHeads: record.layerHeads,
        layerIntermediate: record.layerIntermediate,
        keptHeads: kept.heads,
        keptNeurons: kept.neurons,
        predictedSpeedup: record.predictedSpeedup,
      });
      records.push(record);
      emit({ kind: 'member', member: record });
    }
  }

  if (options.verify ?? true) {
    const unverified = records.filter((r) => r.measuredSpeedup === undefined);
    if (unverified.length > 0) {
      emit({ kind: 'stage', stage: 'verify', message: `re-timing ${unverified.length} members against the dense model` });
      const verified = await verifyMembers(ctx, unverified, options.tolerance ?? 0.02);
      for (const v of verified) {
        await updateMember(run.path(v.dir), v);
        records[records.indexOf(unverified.find((u) => u.dir === v.dir)!)] = v;
      }
    }
  }

  const results: RunResults = {
    format: 'ziplm-run-results',
    version: 1,
    mode: 'oneshot',
    task: taskName,
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
    members: records.map(({ keptHeads: _h, keptNeurons: _n, ...member }) => member),
    notes: [...task.notes],
  };
  await writeRunReport(run, results);
  emit({ kind: 'stage', stage: 'report', message: `report written to ${run.path('report.md')}` });
  return results;
}
