// Opening and finishing a run, what one-shot and gradual runs share around their stages (stages/):
// opening checks the options, loads the model and the task, opens (or resumes) the run directory and
// gets the latency table and the dense model's scores; finishing verifies the members not yet
// re-timed and writes results.json and the report.

import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import { createJsMatMulEngine, type MatMulEngine } from '@ziplm/hessian';
import { describeEnvironment, referenceTime, type InferenceEnvironment } from '@ziplm/latency';
import {
  detectModelLayout,
  exportModelToOnnx,
  familyName,
  isDecoder,
  layerParameterCount,
  loadModelDir,
  type Checkpoint,
} from '@ziplm/models';
import { createOrtMatMulEngine, createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { CompoundSettings, EngineKind, RunContext, RunOptions } from './context.js';
import { DEFAULT_ENGINE, DEFAULT_SEED, DEFAULT_TOLERANCE, defaultCalibrationSamples } from './defaults.js';
import { RunDirectoryError } from './errors.js';
import { hashFile, readJsonFile } from './internal/files.js';
import { checkChoice, checkEnvironment, checkInteger, checkPositive, checkTargets, optionError } from './internal/options.js';
import { RunDirectory, type RunIdentity } from './internal/run-dir.js';
import { pairedComparison } from './internal/stats.js';
import { writeRunReport } from './report-io.js';
import type { Comparison, MemberRecord, RunResults } from './results.js';
import { DENSE_SCORES_FILE, parseDenseScores } from './schemas/dense-scores.js';
import { scoreCheckpoint } from './stages/score.js';
import { foreignTableNote, obtainLatencyTable, retimesHere, verifiesMembers } from './stages/table.js';
import { verifyPending } from './stages/verify.js';
import { defaultTask, prepareTask, TASK_NAMES, taskNameOf, type PreparedTask, type Scores, type TaskSpec } from './tasks/index.js';

export async function matMulEngine(kind: EngineKind = DEFAULT_ENGINE): Promise<MatMulEngine> {
  return kind === 'js' ? createJsMatMulEngine() : createOrtMatMulEngine();
}

/** sha256 over the model's config and weights (model.safetensors, or the ONNX export a transformers.js directory holds). */
export async function modelHash(dir: string): Promise<string> {
  const config = await hashFile(join(dir, 'config.json'));
  const layout = detectModelLayout(dir);
  const weights = await hashFile(join(dir, layout?.kind === 'onnx' ? layout.onnxFile : 'model.safetensors'));
  return `${config.slice(0, 32)}${weights.slice(0, 32)}`;
}

/**
 * Checks the options every run takes before anything is loaded or written: an invalid one is an
 * OptionsError naming the option. Returns the targets (ascending, distinct) and the inference environment.
 */
export function checkRunOptions(options: RunOptions): { targets: number[]; env: InferenceEnvironment; compound?: CompoundSettings } {
  const targets = checkTargets(options.targets);
  if (typeof options.task !== 'object') checkChoice(options.task, 'task', TASK_NAMES);
  checkInteger(options.calibrationSamples, 'calibrationSamples', 1);
  checkInteger(options.seed, 'seed', 0);
  checkInteger(options.evalLimit, 'evalLimit', 1);
  checkPositive(options.tolerance, 'tolerance', true);
  if (options.tolerance !== undefined && options.tolerance >= 1)
    throw optionError('tolerance', `must be below 1 (a shortfall of 100% would pass anything), got ${options.tolerance}`);
  checkChoice(options.engine, 'engine', ['onnxruntime', 'js']);
  checkInteger(options.retarget, 'retarget', 0);
  if (options.spdy !== undefined && options.spdy !== false) {
    if (typeof options.spdy !== 'object' || options.spdy === null)
      throw optionError('spdy', `must be false or { randomInits, steps, seed }, got ${JSON.stringify(options.spdy)}`);
    checkInteger(options.spdy.randomInits, 'spdy.randomInits', 0);
    checkInteger(options.spdy.steps, 'spdy.steps', 0);
    checkInteger(options.spdy.seed, 'spdy.seed', 0);
  }
  if (options.tableRounds) {
    const { minRounds, maxRounds } = options.tableRounds;
    checkInteger(minRounds, 'tableRounds.minRounds', 1);
    checkInteger(maxRounds, 'tableRounds.maxRounds', 1);
    if (minRounds !== undefined && maxRounds !== undefined && maxRounds < minRounds)
      throw optionError('tableRounds.maxRounds', `must be >= minRounds (${minRounds}), got ${maxRounds}`);
  }
  const compound = checkCompound(options);
  const precision = compound ? (`int8-${compound.activations}` as const) : undefined;
  const env = checkEnvironment({ ...options.environment, ...(precision ? { precision } : {}) });
  return { targets, env, ...(compound ? { compound } : {}) };
}

/**
 * The compound settings of a run, defaults filled in (undefined for an FP32 run). The environment's
 * precision follows from them; naming an INT8 precision in `environment` directly is refused, so that
 * one option says how members are compressed.
 */
function checkCompound(options: RunOptions): CompoundSettings | undefined {
  const given = options.environment?.precision;
  if (given !== undefined && given !== 'fp32')
    throw optionError('environment.precision', `is set by compound ({ quantize: 'int8', activations }), got ${JSON.stringify(given)}`);
  const compound = options.compound;
  if (compound === undefined) return undefined;
  if (typeof compound !== 'object' || compound === null)
    throw optionError('compound', `must be an object like { quantize: 'int8' }, got ${JSON.stringify(compound)}`);
  checkChoice(compound.quantize, 'compound.quantize', ['int8']);
  if (compound.quantize === undefined) throw optionError('compound.quantize', 'is required ("int8")');
  checkChoice(compound.method, 'compound.method', ['gptq', 'rtn']);
  checkChoice(compound.activations, 'compound.activations', ['dynamic', 'static']);
  checkPositive(compound.sparsity, 'compound.sparsity', true);
  if (compound.sparsity !== undefined && compound.sparsity >= 1)
    throw optionError('compound.sparsity', `must be below 1 (the fraction of weights set to 0), got ${compound.sparsity}`);
  checkInteger(compound.qatEpochs, 'compound.qatEpochs', 0);
  return {
    method: compound.method ?? 'gptq',
    activations: compound.activations ?? 'dynamic',
    sparsity: compound.sparsity ?? 0,
    qatEpochs: compound.qatEpochs ?? 0,
  };
}

/**
 * What a run will compute, in counts, before it starts (a GPT2 run that takes half an hour should not
 * come as a surprise): the calibration tokens every module's Hessian sees, the modules of the level
 * database, the targets, and the evaluation items scored per member.
 */
function describeRunCost(mode: RunIdentity['mode'], dense: Checkpoint, task: PreparedTask, targets: number, evaluate: boolean): string {
  const tokens = task.calibration.reduce((n, item) => n + item.ids.length, 0);
  const modules = 2 * dense.config.numLayers;
  const database = mode === 'gradual' ? `${modules} modules per target (${modules * targets} in all)` : `${modules} modules`;
  const scored = evaluate
    ? `, scoring ${task.metric.items !== undefined ? `${task.metric.items} evaluation items` : 'the evaluation set'} per member`
    : '';
  return (
    `plan: ${task.name}, calibration on ${task.calibration.length} sequences (${tokens} tokens) for a level database of ${database}, ` +
    `${targets} target${targets === 1 ? '' : 's'}${scored}, each member re-timed against the dense model`
  );
}

/** A task spec as the run's identity records it: every setting, with its files named by their base names. */
function specIdentity(spec: TaskSpec): Record<string, unknown> {
  const base = (file: string | undefined) => (file === undefined ? undefined : basename(file));
  return JSON.parse(
    JSON.stringify({ ...spec, data: base(spec.data), validationData: base(spec.validationData), testData: base(spec.testData) }),
  ) as Record<string, unknown>;
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
  const checked = checkRunOptions(options);
  const { targets } = checked;
  emit({ kind: 'stage', stage: 'load', message: `loading ${options.modelDir}` });
  const { checkpoint: dense, tokenizer } = await loadModelDir(options.modelDir);
  // A model that records the length it was trained at is timed at that length unless told otherwise
  // (positions beyond it were never trained, so no input it serves is longer).
  const trained = dense.config.maxSequenceLength;
  const env =
    trained !== undefined && checked.env.mode !== 'generation' && options.environment?.sequenceLength === undefined
      ? checkEnvironment({ ...checked.env, sequenceLength: trained })
      : checked.env;
  if (env.mode === 'generation' && !isDecoder(dense.config)) {
    throw optionError(
      'environment.mode',
      `"generation" (one token at a time with a KV cache) needs a decoder (GPT2 or LLaMA); ${options.modelDir} is a ${familyName(dense.config)} model`,
    );
  }
  const calibration = {
    samples: options.calibrationSamples ?? defaultCalibrationSamples(dense.config),
    seed: options.seed ?? DEFAULT_SEED,
  };
  const taskChoice = options.task ?? defaultTask(dense.config);
  const taskName = taskNameOf(taskChoice);
  const task = prepareTask(taskChoice, dense.config, tokenizer, {
    calibrationSamples: calibration.samples,
    seed: calibration.seed,
    evalLimit: options.evalLimit,
  });
  check?.(dense, task);
  emit({ kind: 'stage', stage: 'plan', message: describeRunCost(mode, dense, task, targets.length, options.evaluate ?? true) });
  // Unset SPDY settings are recorded as {} (their defaults apply in the search), as runs always have.
  const spdy = options.spdy === undefined ? {} : options.spdy;
  const identity: RunIdentity = {
    mode,
    model: { sha256: await modelHash(options.modelDir), modelType: dense.config.modelType },
    task: taskName,
    data: await Promise.all(
      task.files.map(async (file) => ({ file: file.split(/[\\/]/).slice(-2).join('/'), sha256: await hashFile(file) })),
    ),
    calibration,
    environment: { ...env },
    // A spec of data files is part of the run's identity (columns, labels, split): the same files read
    // another way are another task. Its paths are not (the data hashes above identify the files).
    settings: {
      evalLimit: options.evalLimit ?? null,
      spdy,
      ...(typeof taskChoice === 'object' ? { taskSpec: specIdentity(taskChoice) } : {}),
      ...(checked.compound ? { compound: { ...checked.compound } } : {}),
      ...settings,
    },
  };
  const run = await RunDirectory.open(options.runDir, identity, (message) => emit({ kind: 'warning', message }));
  try {
    const engine = await matMulEngine(options.engine);
    const table = await obtainLatencyTable(run, dense, env, { tablePath: options.tablePath, emit, rounds: options.tableRounds });
    const denseScores = (options.evaluate ?? true) ? await obtainDenseScores(run, dense, task, emit) : undefined;

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
    return {
      run,
      identity,
      dense,
      tokenizer,
      task,
      env,
      table,
      engine,
      targets,
      spdy,
      ...(checked.compound ? { compound: checked.compound } : {}),
      emit,
      densePredictions,
      ...(denseScores ? { denseScores } : {}),
    };
  } catch (error) {
    await run.close();
    throw error;
  }
}

/**
 * The dense model's scores: read back from dense-scores.json after checking it against the size and
 * hash the manifest recorded (a changed file is refused: remove it to score again), or computed and
 * written (its hash recorded first, see RunDirectory.recordFile).
 */
async function obtainDenseScores(run: RunDirectory, dense: Checkpoint, task: PreparedTask, emit: RunContext['emit']): Promise<Scores> {
  const file = run.path(DENSE_SCORES_FILE);
  if (existsSync(file)) {
    const remedy = `remove ${file} to score the dense model again`;
    await run.checkFile(DENSE_SCORES_FILE, remedy);
    const json = await readJsonFile(file, (problem, cause) => new RunDirectoryError(file, `${problem}; ${remedy}`, { cause }));
    const saved = parseDenseScores(json, file);
    return { metric: saved.metric, ...(saved.predictions ? { predictions: Int32Array.from(saved.predictions) } : {}) };
  }
  emit({ kind: 'stage', stage: 'evaluate', message: `scoring the dense model (${task.metric.label})` });
  const scores = await scoreCheckpoint(dense, task, undefined, (done, total) =>
    emit({ kind: 'progress', stage: 'evaluate dense', done, total }),
  );
  const content = new TextEncoder().encode(
    `${JSON.stringify({ metric: scores.metric, ...(scores.predictions ? { predictions: [...scores.predictions] } : {}) }, null, 2)}\n`,
  );
  await run.recordFile(DENSE_SCORES_FILE, content);
  await writeFileAtomic(file, content);
  return scores;
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
export async function finishRun(
  ctx: RunContext,
  records: MemberRecord[],
  options: Pick<RunOptions, 'verify' | 'tolerance'>,
): Promise<RunResults> {
  const { run, dense, task, env, table, emit, denseScores } = ctx;
  if (verifiesMembers(ctx, options.verify)) await verifyPending(ctx, records, options.tolerance ?? DEFAULT_TOLERANCE);
  const results: RunResults = {
    format: 'ziplm-run-results',
    version: 1,
    mode: ctx.identity.mode,
    task: task.name,
    ...(task.labels ? { labels: task.labels } : {}),
    metric: task.metric,
    model: {
      modelType: dense.config.modelType,
      family: familyName(dense.config),
      numLayers: dense.config.numLayers,
      hiddenSize: dense.config.hiddenSize,
      numHeads: dense.config.numHeads,
      intermediateSize: dense.config.intermediateSize,
      layerParameters: layerParameterCount(dense.config),
    },
    environment: describeEnvironment(env),
    dense: {
      timeMs: referenceTime(table),
      ...(table.reference ? { int8TimeMs: table.dense.median } : {}),
      ...(denseScores ? { metric: denseScores.metric } : {}),
    },
    members: records.map(({ keptHeads: _h, keptNeurons: _n, predictions: _p, files: _f, ...member }) => member),
    notes: [...task.notes, ...(retimesHere(table, env) ? [] : [foreignTableNote(table)])],
    ...(task.evaluationLabels && denseScores?.predictions
      ? { comparisons: compareMembers(records, denseScores.predictions, task.evaluationLabels) }
      : {}),
  };
  await writeRunReport(run, results);
  emit({ kind: 'stage', stage: 'report', message: `report written to ${run.path('report.md')}` });
  return results;
}
