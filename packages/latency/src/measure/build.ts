// Building a latency table (guide/latency.md) for a model shape on this device, in two steps:
// `planLatencyTable` decides every graph to time (the dense model, its non-prunable rest, one context
// model or block per attention and FFN level, the whole-model calibration models), built on demand
// with @ziplm/models' exporters; `measureLatencyPlan` (measure-plan.ts) times them in one interleaved
// protocol and assembles the table. `buildLatencyTable` does both in this process with
// onnxruntime-node; `writeLatencyPlan` (plan-files.ts) writes the plan for a browser to measure
// (`@ziplm/latency/browser`).

import { seededRandom } from '@ziplm/core';
import { attentionLevels, ffnLevels } from '@ziplm/hessian';
import type { BertConfig, Checkpoint, Gpt2Config, LlamaConfig, ModelConfig, WeightMap } from '@ziplm/models';
import { familyName, headsPerGroup, isDecoder } from '@ziplm/models';
import {
  expectedShapes,
  exportAttentionBlock,
  exportFfnBlock,
  exportModelToOnnx,
  isPruned,
  ONNX_NAMES,
  quantizableLinears,
  type ModelExportOptions,
  validateConfig,
  withLayerShapes,
} from '@ziplm/models';
import type { DeviceFingerprint, InferenceEnvironment } from '../environment.js';
import { exportOptionsFor, fp32Environment, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { nodeDeviceFingerprint } from '../internal/fingerprint.js';
import { youngGarbageCollector } from '../internal/gc.js';
import type { LatencyTablePlan, PlannedGraph, PlanProtocol } from '../plan.js';
import type { LatencyTable } from '../table.js';
import { modelShapeOf } from '../table.js';
import type { BuildProgress } from './measure-plan.js';
import { measureLatencyPlan } from './measure-plan.js';
import { createOrtRunner } from './ort.js';
import type { ProtocolOptions } from './protocol.js';
import { DEFAULT_RENEW_ROUNDS, DEFAULT_VISIT_RUNS } from './protocol.js';
import type { SessionRunner } from './runner.js';

export type { BuildProgress } from './measure-plan.js';

/**
 * Activation range of every quantized MatMul input in a static-INT8 timing graph. Timing graphs hold
 * random weights and see random tokens, so there is no calibration to take ranges from; the range
 * changes no operator's work (only the values the kernels compute), so any range serves for timing.
 */
const NOMINAL_TIMING_RANGE = { min: -8, max: 8 } as const;

/**
 * The export options of a timing graph of `config` for `env`: `exportOptionsFor(env)`, plus for
 * static INT8 the nominal range of every quantized MatMul input (whole-model static exports need one each).
 */
export function timingExportOptions(config: ModelConfig, env: InferenceEnvironment): ModelExportOptions {
  const options = exportOptionsFor(env);
  if (options.quantize?.activations !== 'static') return options;
  const ranges = new Map(quantizableLinears(config).map((linear) => [linear.input, NOMINAL_TIMING_RANGE]));
  return { ...options, quantize: { ...options.quantize, ranges } };
}

export interface BuildTableOptions extends Omit<ProtocolOptions, 'onProgress'> {
  /** The engine; default: onnxruntime-node (`createOrtRunner()`). */
  runner?: SessionRunner;
  /** Where levels are timed: inside R-layer models (default) or as isolated block graphs. */
  context?: 'model' | 'isolated';
  /** R, the layers of the context models ('model' context); default min(4, numLayers). */
  contextLayers?: number;
  /**
   * The dense model to time for `dense` (its head and vocabulary matter; weight values do not).
   * Default: `timingCheckpoint` of `config`'s dense shape.
   */
  checkpoint?: Checkpoint;
  /** Seed of weights and inputs; default 0. */
  seed?: number;
  /** Kept head counts to time; default `attentionLevels(numHeads, headsPerGroup)` of @ziplm/hessian (the solver's grid; whole key/value groups for LLaMA). */
  attentionLevels?: readonly number[];
  /** Kept FFN sizes to time; default `ffnLevels(intermediateSize)` of @ziplm/hessian. */
  ffnLevels?: readonly number[];
  /** Relative tolerance below which a larger level being faster counts as noise; default 0.02. */
  monotonicityTolerance?: number;
  /** Extra rounds for the levels of a monotonicity violation; default `minRounds`. */
  remeasureRounds?: number;
  /** Replace a level sequence that stays non-monotone after re-measurement by its isotonic fit; default false (keep the measurements). */
  enforceMonotonicity?: boolean;
  /**
   * Scale every level time so that the runtime model reproduces the measured dense model exactly
   * (`blockTiming.scale`). Assumes the context error is proportional to the work; off by default:
   * check `build.additivity` and `bench/additivity.ts` on your machine first.
   */
  calibrateToDense?: boolean;
  /**
   * Whole pruned models (random per-layer levels spread over the speedup range) timed with the
   * levels to calibrate the runtime model: level times become scale · t + offset (a fixed cost per
   * present module), fitted with the dense model by weighted least squares (`build.calibration`),
   * and kept only when it predicts models left out of the fit better than the uncalibrated levels.
   * 0 = off. Default `DEFAULT_CALIBRATION_MODELS`; ignored when `calibrateToDense` is set.
   */
  calibrationModels?: number;
  /**
   * Renew every engine session every this many rounds (0 = never), so that per-session biases of a
   * multi-threaded engine average out (protocol.ts); default `DEFAULT_RENEW_ROUNDS`.
   */
  renewSessionsEvery?: number;
  /** Device fingerprint to record; default: this Node process's device with the runner's engine. */
  fingerprint?: DeviceFingerprint;
  onProgress?: (progress: BuildProgress) => void;
}

/**
 * Weights for timing only: every matrix is filled from one seeded pool of N(0, 0.02)-like values
 * (LayerNorm scales 1, biases 0). Timing does not depend on weight values (no sparse kernels; the
 * values are far from denormal), and filling by block copies takes milliseconds where drawing 110M
 * normal samples for BERT-base takes many seconds. Each tensor owns its memory, so layers do not
 * share cache lines they would not share in a real model.
 */
export function timingCheckpoint<C extends ModelConfig>(config: C, seed = 0): Checkpoint<C> {
  const random = seededRandom(seed);
  const pool = new Float32Array(1 << 16);
  // Sum of 4 uniforms: roughly normal, std 0.02 after scaling.
  for (let i = 0; i < pool.length; i++) pool[i] = (random() + random() + random() + random() - 2) * 0.0346;
  const weights: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    if (/(LayerNorm|ln_\d|ln_f)\.weight$/.test(name)) data.fill(1);
    else if (!name.endsWith('.bias')) {
      let offset = Math.floor(random() * pool.length);
      for (let i = 0; i < size; ) {
        const n = Math.min(size - i, pool.length - offset);
        data.set(pool.subarray(offset, offset + n), i);
        i += n;
        offset = 0;
      }
    }
    weights.set(name, { shape: [...shape], data });
  }
  return { config, weights };
}

/** Default number of whole pruned models timed to calibrate the runtime model. */
export const DEFAULT_CALIBRATION_MODELS = 6;

/**
 * Per-layer sizes of the calibration models: model i keeps about `KEEP[i]` of every module (a
 * log-normal spread around it, snapped to the table's grid), some modules removed, so that the
 * points span the speedups a search will ask for. Deterministic for a seed.
 */
const KEEP = [0.75, 0.5, 0.33, 0.2, 0.1, 0.04];

function calibrationShapes(
  dense: ModelConfig,
  heads: readonly number[],
  neurons: readonly number[],
  count: number,
  seed: number,
): Array<{ layerHeads: number[]; layerIntermediate: number[] }> {
  const random = seededRandom(seed + 7919);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const snap = (grid: readonly number[], x: number) =>
    grid.filter((k) => k > 0).reduce((best, k) => (Math.abs(k - x) < Math.abs(best - x) ? k : best), grid[0]!);
  const out: Array<{ layerHeads: number[]; layerIntermediate: number[] }> = [];
  for (let i = 0; i < count; i++) {
    const q = KEEP[i % KEEP.length]!;
    const pick = (grid: readonly number[], full: number) =>
      random() < 0.25 * (1 - q) ? 0 : snap(grid, full * q * Math.exp(0.6 * gaussian()));
    out.push({
      layerHeads: Array.from({ length: dense.numLayers }, () => pick(heads, dense.numHeads)),
      layerIntermediate: Array.from({ length: dense.numLayers }, () => pick(neurons, dense.intermediateSize)),
    });
  }
  return out;
}

/** The same config with every layer at the dense size. */
function denseConfig(config: ModelConfig): ModelConfig {
  return withLayerShapes(
    config,
    new Array<number>(config.numLayers).fill(config.numHeads),
    new Array<number>(config.numLayers).fill(config.intermediateSize),
  );
}

/** Vocabulary of the context models: their embedding and head cancel out, so keep them small. */
const CONTEXT_VOCAB = 256;

/** A LLaMA config without its optional special token ids (`eosTokenIds`, `padTokenId`). */
function withoutTokenIds(config: LlamaConfig): Omit<LlamaConfig, 'eosTokenIds' | 'padTokenId'> {
  const { eosTokenIds: _eos, padTokenId: _pad, ...rest } = config;
  return rest;
}

/** An R-layer model of the dense model's width with the given per-layer sizes and a small vocabulary. */
function contextConfig(dense: ModelConfig, layers: number, heads: number, neurons: number): ModelConfig {
  const shape = {
    numLayers: layers,
    layerHeads: new Array<number>(layers).fill(heads),
    layerIntermediate: new Array<number>(layers).fill(neurons),
    vocabSize: Math.min(dense.vocabSize, CONTEXT_VOCAB),
  };
  const config: ModelConfig =
    dense.modelType === 'bert'
      ? ({ ...dense, ...shape, padTokenId: 0 } satisfies BertConfig)
      : dense.modelType === 'llama'
        ? // Special token ids must fit the small vocabulary; they do not change any time.
          ({ ...withoutTokenIds(dense), ...shape, bosTokenId: 0, eosTokenId: 0 } satisfies LlamaConfig)
        : ({ ...dense, ...shape, bosTokenId: 0, eosTokenId: 0 } satisfies Gpt2Config);
  validateConfig(config);
  return config;
}

function checkLevels(levels: readonly number[], full: number, what: string): number[] {
  const out = [...new Set(levels)].sort((a, b) => b - a);
  for (const k of out)
    if (!Number.isInteger(k) || k < 0 || k > full) throw new MeasurementError(`${what} levels must be integers in [0, ${full}], got ${k}`);
  if (!out.includes(full)) out.unshift(full);
  if (!out.includes(0)) out.push(0);
  return out;
}

/** A plan in memory: what to time, and the graphs' bytes built on demand. */
export interface PlannedLatencyTable {
  readonly plan: LatencyTablePlan;
  /**
   * The ONNX bytes of a graph of `plan` (every role but `overhead`, which the measuring side builds),
   * exported when asked for, so that only one graph is held at a time.
   */
  graphBytes(graph: PlannedGraph): Uint8Array;
}

/** Options of `planLatencyTable`: `BuildTableOptions` less the engine, the device and the callbacks. */
export type PlanTableOptions = Omit<
  BuildTableOptions,
  'runner' | 'fingerprint' | 'onProgress' | 'clock' | 'beforeTimedRun' | 'beforeRound' | 'anchors' | 'runsPerSample'
>;

/**
 * Plans the latency table of `config`'s shape (its dense shape: per-layer sizes are ignored) in
 * `env`: every graph to time, with its role, and the grids, context and protocol settings the table
 * is assembled with. Builds no graph yet (`graphBytes` exports one when asked).
 */
export function planLatencyTable(config: ModelConfig, env: InferenceEnvironment, options: PlanTableOptions = {}): PlannedLatencyTable {
  validateEnvironment(env);
  if (env.mode === 'generation' && !isDecoder(config))
    throw new MeasurementError(`generation mode (KV-cache decoding) needs a decoder (GPT2 or LLaMA), not ${familyName(config)}`);
  if (options.checkpoint && isPruned(options.checkpoint.config)) {
    throw new MeasurementError('options.checkpoint must be the dense model (the speedup reference); it has pruned layers');
  }
  const dense = denseConfig(options.checkpoint?.config ?? config);
  const seed = options.seed ?? 0;
  const exportOptions = exportOptionsFor(env);
  /** A whole model of `checkpoint`'s shape, in the environment's precision. */
  const wholeModel = (checkpoint: Checkpoint) => exportModelToOnnx(checkpoint, timingExportOptions(checkpoint.config, env));
  const heads = checkLevels(options.attentionLevels ?? attentionLevels(dense.numHeads, headsPerGroup(dense)), dense.numHeads, 'attention');
  const neurons = checkLevels(options.ffnLevels ?? ffnLevels(dense.intermediateSize), dense.intermediateSize, 'ffn');
  const context = options.context ?? 'model';
  const R = options.contextLayers ?? Math.min(4, dense.numLayers);
  if (!Number.isInteger(R) || R < 1) throw new MeasurementError(`contextLayers must be a positive integer, got ${R}`);
  const calibrationCount = options.calibrateToDense ? 0 : (options.calibrationModels ?? DEFAULT_CALIBRATION_MODELS);
  if (!Number.isInteger(calibrationCount) || calibrationCount < 0)
    throw new MeasurementError(`calibrationModels must be an integer >= 0, got ${calibrationCount}`);
  const renewEvery = options.renewSessionsEvery ?? DEFAULT_RENEW_ROUNDS;
  if (!Number.isInteger(renewEvery) || renewEvery < 0)
    throw new MeasurementError(`renewSessionsEvery must be an integer >= 0, got ${renewEvery}`);

  // Each graph with the function that exports it, in the order the protocol registers them.
  const graphs: Array<{ graph: PlannedGraph; make?: () => Uint8Array }> = [];
  const zeros = new Array<number>(dense.numLayers).fill(0);
  graphs.push(
    {
      graph: { id: 'model:dense', role: 'dense', vocabSize: dense.vocabSize },
      make: () => wholeModel(options.checkpoint ?? timingCheckpoint(dense, seed)),
    },
    {
      graph: { id: 'model:empty', role: 'non-prunable', vocabSize: dense.vocabSize },
      make: () => wholeModel(timingCheckpoint(withLayerShapes(dense, zeros, zeros), seed)),
    },
  );
  // An INT8 table's speedups are over the dense FP32 model (guide/compound-compression.md), timed in
  // the same protocol as everything else.
  if (env.precision !== undefined) {
    graphs.push({
      graph: { id: 'model:reference', role: 'reference', vocabSize: dense.vocabSize },
      make: () => exportModelToOnnx(options.checkpoint ?? timingCheckpoint(dense, seed), exportOptionsFor(fp32Environment(env))),
    });
  }
  const level = (module: 'attention' | 'ffn', kept: number): { graph: PlannedGraph; make: () => Uint8Array } => {
    const id = `${module}:${kept}`;
    if (context === 'isolated') {
      const make = () =>
        module === 'attention'
          ? exportAttentionBlock(dense, kept, { ...exportOptions, seed })
          : exportFfnBlock(dense, kept, { ...exportOptions, seed });
      return { graph: { id, role: 'level', module, kept, vocabSize: dense.vocabSize }, make };
    }
    const c = module === 'attention' ? contextConfig(dense, R, kept, 0) : contextConfig(dense, R, 0, kept);
    return { graph: { id, role: 'level', module, kept, vocabSize: c.vocabSize }, make: () => wholeModel(timingCheckpoint(c, seed)) };
  };
  if (context === 'model') {
    const c = contextConfig(dense, R, 0, 0);
    graphs.push({
      graph: { id: 'context:empty', role: 'context-empty', vocabSize: c.vocabSize },
      make: () => wholeModel(timingCheckpoint(c, seed)),
    });
  }
  for (const k of heads) if (k > 0) graphs.push(level('attention', k));
  for (const k of neurons) if (k > 0) graphs.push(level('ffn', k));
  calibrationShapes(dense, heads, neurons, calibrationCount, seed).forEach((shape, index) => {
    graphs.push({
      graph: { id: `calibration:${index}`, role: 'calibration', index, ...shape, vocabSize: dense.vocabSize },
      make: () => wholeModel(timingCheckpoint(withLayerShapes(dense, shape.layerHeads, shape.layerIntermediate), seed)),
    });
  });
  if (context === 'isolated') {
    // The per-run cost of a graph with a block's inputs, built from the largest block's session.
    for (const module of ['attention', 'ffn'] as const) {
      graphs.push({
        graph: {
          id: `overhead:${module}`,
          role: 'overhead',
          module,
          passThroughOf: `${module}:${module === 'attention' ? heads[0] : neurons[0]}`,
          blockInput: ONNX_NAMES.blockInput,
          blockOutput: ONNX_NAMES.blockOutput,
          vocabSize: dense.vocabSize,
        },
      });
    }
  }

  const protocol: PlanProtocol = {
    ...(options.warmupRuns !== undefined ? { warmupRuns: options.warmupRuns } : {}),
    ...(options.minRounds !== undefined ? { minRounds: options.minRounds } : {}),
    ...(options.maxRounds !== undefined ? { maxRounds: options.maxRounds } : {}),
    ...(options.precision !== undefined ? { precision: options.precision } : {}),
    ...(options.timeBudgetMs !== undefined && Number.isFinite(options.timeBudgetMs) ? { timeBudgetMs: options.timeBudgetMs } : {}),
    visitRuns: options.visitRuns ?? DEFAULT_VISIT_RUNS,
    renewSessionsEvery: renewEvery,
    seed,
    monotonicityTolerance: options.monotonicityTolerance ?? 0.02,
    ...(options.remeasureRounds !== undefined ? { remeasureRounds: options.remeasureRounds } : {}),
    enforceMonotonicity: options.enforceMonotonicity ?? false,
  };
  const plan: LatencyTablePlan = {
    model: modelShapeOf(dense),
    environment: env,
    context,
    contextLayers: R,
    attentionLevels: heads,
    ffnLevels: neurons,
    calibrateToDense: options.calibrateToDense ?? false,
    protocol,
    graphs: graphs.map((g) => g.graph),
  };
  const makers = new Map(graphs.map((g) => [g.graph.id, g.make]));
  return {
    plan,
    graphBytes(graph: PlannedGraph): Uint8Array {
      const make = makers.get(graph.id);
      if (!make) throw new MeasurementError(`graph "${graph.id}" is not a file-backed graph of this plan`);
      return make();
    },
  };
}

/**
 * Measures a latency table for `config`'s shape (its dense shape: per-layer sizes are ignored) in
 * `env`: `planLatencyTable`, then `measureLatencyPlan` with the graphs exported in memory, one at a
 * time as they are loaded. Holds every session open during the build (memory: the dense model plus
 * one graph per level). Releases all sessions, also on failure.
 */
export async function buildLatencyTable(
  config: ModelConfig,
  env: InferenceEnvironment,
  options: BuildTableOptions = {},
): Promise<LatencyTable> {
  const startedAt = performance.now();
  const planned = planLatencyTable(config, env, options);
  const runner = options.runner ?? (await createOrtRunner());
  return measureLatencyPlan(planned.plan, {
    runner,
    loadGraph: (graph) => planned.graphBytes(graph),
    fingerprint: options.fingerprint ?? nodeDeviceFingerprint(runner.engine, runner.engineVersion),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.runsPerSample !== undefined ? { runsPerSample: options.runsPerSample } : {}),
    beforeTimedRun: options.beforeTimedRun ?? youngGarbageCollector(),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    startedAt,
  });
}
