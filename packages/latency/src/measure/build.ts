// Building a latency table (guide/latency.md) for a model shape on this device.
//
// Everything is timed in ONE interleaved protocol (protocol.ts), so drift and slow stretches of a
// shared machine hit every entry alike:
// - `dense`: the whole dense model, as exported by @ziplm/models' `exportModelToOnnx`;
// - `empty`: the whole model with every attention and FFN module removed: embeddings, mask
//   preparation and heads, i.e. exactly the original's `base − prunable` (the non-prunable rest);
// - one entry per attention head count and per level of the FFN grid (the solver's grids from
//   @ziplm/hessian). All layers share a shape, so each level is timed once (the original timed
//   layer 0 only). Two ways (`context`, see `BlockTiming` in table.ts):
//   - 'model' (default): the level inside an R-layer model from the shipped exporter (every layer at
//     that level, the other module removed), minus the R-layer empty model, divided by R;
//   - 'isolated': the single-block graph from `exportAttentionBlock` / `exportFfnBlock` (the same
//     subgraph builders the whole-model export uses) minus the per-run cost of a pass-through graph.
//
// Why 'model' is the default: a block timed alone pays costs it does not pay inside a model (its own
// run dispatch, handing its output back to JavaScript, preparing the attention mask) and runs on
// cold activation buffers (other configurations ran in between), while inside a model it reads the
// activations the previous layer just wrote. Subtracting a measured per-run overhead fixes the first
// part only. Timing each level in a model context costs R times more but measures what the runtime
// model adds up; `bench/additivity.ts` compares both against whole pruned models.
//
// Sanity checks: a larger level must not be faster than a smaller one beyond noise; violators are
// re-measured (more interleaved rounds) and the outcome recorded in `build.monotonicity`. The
// additivity of the runtime model (dense measured vs non-prunable + Σ dense level times) is recorded
// in `build.additivity`.

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
import { GraphBuilder } from '@ziplm/onnx';
import type { DeviceFingerprint, InferenceEnvironment } from '../environment.js';
import { exportOptionsFor, fp32Environment, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { nodeDeviceFingerprint } from '../internal/fingerprint.js';
import { youngGarbageCollector } from '../internal/gc.js';
import { selectCalibration } from '../calibration.js';
import { isotonicIncreasing, type TimingSummary } from '../stats.js';
import type { BlockTiming, LatencyTable, LevelTime, TableBuildInfo, TableCalibration } from '../table.js';
import { LATENCY_TABLE_FORMAT, LATENCY_TABLE_VERSION, modelShapeOf } from '../table.js';
import { createOrtRunner } from './ort.js';
import type { ProtocolOptions, ProtocolProgress } from './protocol.js';
import { InterleavedTimer } from './protocol.js';
import type { EngineSession, SessionRunner } from './runner.js';
import { SessionPool } from './runner.js';

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

/** Progress of a table build. */
export type BuildProgress =
  | { readonly phase: 'prepare'; readonly done: number; readonly total: number; readonly what: string; readonly elapsedMs: number }
  | ProtocolProgress
  | { readonly phase: 'monotonicity'; readonly violations: number; readonly elapsedMs: number }
  | { readonly phase: 'done'; readonly elapsedMs: number };

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

/**
 * Default runs per visit in table builds and verification: one untimed run brings the graph's
 * weights into the caches and wakes the engine's threads, the second is timed (protocol.ts).
 */
export const DEFAULT_VISIT_RUNS = 2;

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

/** Default rounds between session renewals in table builds and verification (0 = never renew). */
export const DEFAULT_RENEW_ROUNDS = 10;

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

/**
 * A graph with the inputs of a block session whose only work is producing the block's main output
 * (`hidden_states` passed through). Inputs it does not use (mask, KV cache) are still bound and
 * passed, as for the block.
 */
function passThroughGraph(session: EngineSession, where: string): Uint8Array {
  const g = new GraphBuilder('ziplm_latency_pass_through');
  let hidden: string | undefined;
  let shape: ReadonlyArray<number | string> = [];
  for (const input of session.inputs) {
    if (input.type !== 'float32' && input.type !== 'int64')
      throw new MeasurementError(`${where}: input "${input.name}" has unsupported type ${input.type}`);
    const name = g.input(input.name, input.type, input.shape);
    if (input.name === ONNX_NAMES.blockInput) {
      hidden = name;
      shape = input.shape;
    }
  }
  if (!hidden) throw new MeasurementError(`${where}: the block graph has no "${ONNX_NAMES.blockInput}" input`);
  g.output(g.op('Identity', [hidden]), 'float32', shape, ONNX_NAMES.blockOutput);
  return g.toBytes();
}

function checkLevels(levels: readonly number[], full: number, what: string): number[] {
  const out = [...new Set(levels)].sort((a, b) => b - a);
  for (const k of out)
    if (!Number.isInteger(k) || k < 0 || k > full) throw new MeasurementError(`${what} levels must be integers in [0, ${full}], got ${k}`);
  if (!out.includes(full)) out.unshift(full);
  if (!out.includes(0)) out.push(0);
  return out;
}

interface Job {
  id: string;
  vocabSize: number;
  make: () => Uint8Array;
}

/**
 * Measures a latency table for `config`'s shape (its dense shape: per-layer sizes are ignored) in
 * `env`. Holds every session open during the build (memory: the dense model plus one graph per
 * level). Releases all sessions, also on failure.
 */
export async function buildLatencyTable(
  config: ModelConfig,
  env: InferenceEnvironment,
  options: BuildTableOptions = {},
): Promise<LatencyTable> {
  validateEnvironment(env);
  if (env.mode === 'generation' && !isDecoder(config))
    throw new MeasurementError(`generation mode (KV-cache decoding) needs a decoder (GPT2 or LLaMA), not ${familyName(config)}`);
  const started = performance.now();
  const elapsed = () => performance.now() - started;
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
  const tolerance = options.monotonicityTolerance ?? 0.02;
  const context = options.context ?? 'model';
  const R = options.contextLayers ?? Math.min(4, dense.numLayers);
  if (!Number.isInteger(R) || R < 1) throw new MeasurementError(`contextLayers must be a positive integer, got ${R}`);
  const runner = options.runner ?? (await createOrtRunner());
  const onProgress = options.onProgress;

  // Level times are paired differences with the per-run baseline, which therefore runs every round.
  const calibrationCount = options.calibrateToDense ? 0 : (options.calibrationModels ?? DEFAULT_CALIBRATION_MODELS);
  if (!Number.isInteger(calibrationCount) || calibrationCount < 0)
    throw new MeasurementError(`calibrationModels must be an integer >= 0, got ${calibrationCount}`);
  // Calibration models are compared with the dense model round by round, so it runs every round too.
  const anchors = [
    ...(context === 'model' ? ['context:empty'] : ['overhead:attention', 'overhead:ffn']),
    ...(calibrationCount > 0 ? ['model:dense'] : []),
  ];
  const renewEvery = options.renewSessionsEvery ?? DEFAULT_RENEW_ROUNDS;
  if (!Number.isInteger(renewEvery) || renewEvery < 0)
    throw new MeasurementError(`renewSessionsEvery must be an integer >= 0, got ${renewEvery}`);
  let pool: SessionPool | undefined;
  const timer = new InterleavedTimer({
    ...options,
    visitRuns: options.visitRuns ?? DEFAULT_VISIT_RUNS,
    anchors,
    seed,
    onProgress,
    beforeTimedRun: options.beforeTimedRun ?? youngGarbageCollector(),
    beforeRound: async (round) => {
      if (renewEvery > 0 && round > 0 && round % renewEvery === 0) await pool!.recycle(timer.warmupRuns);
    },
  });
  const zeros = new Array<number>(dense.numLayers).fill(0);
  const jobs: Job[] = [
    {
      id: 'model:dense',
      vocabSize: dense.vocabSize,
      make: () => wholeModel(options.checkpoint ?? timingCheckpoint(dense, seed)),
    },
    {
      id: 'model:empty',
      vocabSize: dense.vocabSize,
      make: () => wholeModel(timingCheckpoint(withLayerShapes(dense, zeros, zeros), seed)),
    },
  ];
  // An INT8 table's speedups are over the dense FP32 model (guide/compound-compression.md), timed here
  // in the same protocol as everything else.
  if (env.precision !== undefined) {
    jobs.push({
      id: 'model:reference',
      vocabSize: dense.vocabSize,
      make: () => exportModelToOnnx(options.checkpoint ?? timingCheckpoint(dense, seed), exportOptionsFor(fp32Environment(env))),
    });
  }
  const levelJob = (module: 'attention' | 'ffn', kept: number): Job => {
    const id = `${module}:${kept}`;
    if (context === 'isolated') {
      const make = () =>
        module === 'attention'
          ? exportAttentionBlock(dense, kept, { ...exportOptions, seed })
          : exportFfnBlock(dense, kept, { ...exportOptions, seed });
      return { id, vocabSize: dense.vocabSize, make };
    }
    const c = module === 'attention' ? contextConfig(dense, R, kept, 0) : contextConfig(dense, R, 0, kept);
    return { id, vocabSize: c.vocabSize, make: () => wholeModel(timingCheckpoint(c, seed)) };
  };
  if (context === 'model') {
    const c = contextConfig(dense, R, 0, 0);
    jobs.push({ id: 'context:empty', vocabSize: c.vocabSize, make: () => wholeModel(timingCheckpoint(c, seed)) });
  }
  for (const k of heads) if (k > 0) jobs.push(levelJob('attention', k));
  for (const k of neurons) if (k > 0) jobs.push(levelJob('ffn', k));
  const calibration = calibrationShapes(dense, heads, neurons, calibrationCount, seed);
  calibration.forEach((shape, i) => {
    jobs.push({
      id: `calibration:${i}`,
      vocabSize: dense.vocabSize,
      make: () => wholeModel(timingCheckpoint(withLayerShapes(dense, shape.layerHeads, shape.layerIntermediate), seed)),
    });
  });

  pool = new SessionPool(runner, env, seed);
  const total = jobs.length + (context === 'isolated' ? 2 : 0);
  let done = 0;
  try {
    const load = async (id: string, onnx: Uint8Array, vocabSize: number) => {
      // Inputs are generated and wrapped once; every timed run (and every renewed session) reuses them.
      const session = await pool.open({ id, onnx, vocabSize }, (err) => new MeasurementError(`${id}: ${err.message}`));
      timer.add(id, () => pool.run(id));
      onProgress?.({ phase: 'prepare', done: ++done, total, what: id, elapsedMs: elapsed() });
      return session;
    };
    const loaded = new Map<string, EngineSession>();
    for (const job of jobs) loaded.set(job.id, await load(job.id, job.make(), job.vocabSize));
    if (context === 'isolated') {
      for (const module of ['attention', 'ffn'] as const) {
        const id = `${module}:${module === 'attention' ? heads[0] : neurons[0]}`;
        await load(`overhead:${module}`, passThroughGraph(loaded.get(id)!, id), dense.vocabSize);
      }
    }

    await timer.warmup();
    const remeasured = await timer.untilPrecise();

    // Level time and its standard error (ms) from the current samples: the median of the per-round
    // differences with the baseline (same round, same state of the machine), per layer.
    const emptyContext = () => timer.summary('context:empty');
    const overhead = (module: 'attention' | 'ffn') => timer.summary(`overhead:${module}`);
    const derive = (module: 'attention' | 'ffn', kept: number): { time: number; error: number; measured: TimingSummary } => {
      const id = `${module}:${kept}`;
      const difference = timer.paired(id, context === 'model' ? 'context:empty' : `overhead:${module}`, 'difference');
      const scale = context === 'model' ? R : 1;
      const time = Math.max(0, difference.median / scale);
      const error = (difference.relativeError * Math.abs(difference.median)) / scale;
      return { time, error, measured: timer.summary(id) };
    };

    // Monotonicity: within each module type, time must not fall as the kept size grows.
    const violations = (module: 'attention' | 'ffn', levels: number[]): Array<[number, number]> => {
      const found: Array<[number, number]> = [];
      const asc = levels.filter((k) => k > 0).sort((a, b) => a - b);
      for (let i = 0; i + 1 < asc.length; i++) {
        const small = derive(module, asc[i]!);
        const large = derive(module, asc[i + 1]!);
        // "Beyond noise": by more than the tolerance and more than 3 combined standard errors.
        const noise = Math.max(tolerance * small.time, 3 * Math.hypot(small.error, large.error));
        if (large.time < small.time - noise) found.push([asc[i]!, asc[i + 1]!]);
      }
      return found;
    };
    const key = (module: string, [a, b]: [number, number]) => `${module}:${a}<${b}`;
    const first = [
      ...violations('attention', heads).map((v) => ['attention', v] as const),
      ...violations('ffn', neurons).map((v) => ['ffn', v] as const),
    ];
    onProgress?.({ phase: 'monotonicity', violations: first.length, elapsedMs: elapsed() });
    const monotonicity: Array<{ module: 'attention' | 'ffn'; smaller: number; larger: number; resolved: boolean }> = [];
    if (first.length > 0) {
      const ids = new Set(first.flatMap(([module, [a, b]]) => [`${module}:${a}`, `${module}:${b}`]));
      if (context === 'model') ids.add('context:empty');
      await timer.rounds(options.remeasureRounds ?? timer.minRounds, [...ids], 'remeasure');
      const after = new Set([
        ...violations('attention', heads).map((v) => key('attention', v)),
        ...violations('ffn', neurons).map((v) => key('ffn', v)),
      ]);
      for (const [module, v] of first) monotonicity.push({ module, smaller: v[0], larger: v[1], resolved: !after.has(key(module, v)) });
    }

    const levelTimes = (module: 'attention' | 'ffn', levels: number[]): LevelTime[] => {
      const measured = levels.filter((k) => k > 0).map((k) => ({ kept: k, ...derive(module, k) }));
      let times = measured.map((m) => m.time);
      if (options.enforceMonotonicity) {
        // Isotonic fit in ascending kept order, weighted by precision (1 / standard error²).
        const asc = [...times].reverse();
        const weights = [...measured].reverse().map((m) => 1 / Math.max(1e-9, m.error) ** 2);
        times = isotonicIncreasing(asc, weights).reverse();
      }
      return [...measured.map((m, i) => ({ kept: m.kept, time: times[i]!, measured: m.measured })), { kept: 0, time: 0 }];
    };
    let attention = levelTimes('attention', heads);
    let ffn = levelTimes('ffn', neurons);
    const denseSummary = timer.summary('model:dense');
    const nonPrunable = timer.summary('model:empty');
    const perLayer = attention[0]!.time + ffn[0]!.time;
    const predictedDense = nonPrunable.median + dense.numLayers * perLayer;
    let scale = 1;
    let offset = 0;
    let calibrationInfo: TableCalibration | undefined;
    if (calibration.length > 0) {
      // Layer time of each whole model: measured (from the per-round speedup over the dense model)
      // and from the level times; the dense model is a point too.
      const timeOf = (levels: LevelTime[], kept: number) => levels.find((l) => l.kept === kept)!.time;
      const rest = nonPrunable.median;
      const points = [
        {
          layerHeads: new Array<number>(dense.numLayers).fill(dense.numHeads),
          layerIntermediate: new Array<number>(dense.numLayers).fill(dense.intermediateSize),
          measured: denseSummary.median - rest,
        },
        ...calibration.map((shape, i) => ({
          ...shape,
          measured: denseSummary.median / timer.paired(`calibration:${i}`, 'model:dense', 'ratio').median - rest,
        })),
      ].map((p) => ({
        ...p,
        sum: p.layerHeads.reduce((a, k) => a + timeOf(attention, k), 0) + p.layerIntermediate.reduce((a, k) => a + timeOf(ffn, k), 0),
        modules: p.layerHeads.filter((k) => k > 0).length + p.layerIntermediate.filter((k) => k > 0).length,
      }));
      const usable = points.filter((p) => p.measured > 0 && p.sum > 0);
      // Kept only when it predicts models left out of the fit better than the uncalibrated levels
      // (leave-one-out, calibration.ts): an in-sample comparison always favours the fit.
      const smallest = Math.min(...[...attention, ...ffn].filter((l) => l.kept > 0).map((l) => l.time));
      const choice = selectCalibration(
        usable.map((p) => ({ sum: p.sum, modules: p.modules, time: rest + p.measured })),
        rest,
        smallest,
        ['scale+offset'],
      );
      const applied = choice.model !== 'none';
      if (applied) {
        scale = choice.scale;
        offset = choice.offset;
      }
      const relative = (x: number, m: number) => Math.abs(x / m - 1);
      const rows = points.map((p) => ({
        layerHeads: p.layerHeads,
        layerIntermediate: p.layerIntermediate,
        measured: p.measured,
        uncalibrated: p.sum,
        calibrated: scale * p.sum + offset * p.modules,
      }));
      calibrationInfo = {
        points: rows,
        error: Math.max(...rows.map((r) => relative(r.calibrated + rest, r.measured + rest))),
        uncalibratedError: Math.max(...rows.map((r) => relative(r.uncalibrated + rest, r.measured + rest))),
        applied,
      };
      const calibrated = (levels: LevelTime[]) => levels.map((l) => (l.kept > 0 ? { ...l, time: scale * l.time + offset } : l));
      attention = calibrated(attention);
      ffn = calibrated(ffn);
    } else if (options.calibrateToDense) {
      if (!(perLayer > 0) || !(denseSummary.median > nonPrunable.median)) {
        throw new MeasurementError(
          `cannot calibrate: dense ${denseSummary.median} ms, non-prunable ${nonPrunable.median} ms, full layer ${perLayer} ms`,
        );
      }
      scale = (denseSummary.median - nonPrunable.median) / (dense.numLayers * perLayer);
      const scaled = (levels: LevelTime[]) => levels.map((l) => ({ ...l, time: l.time * scale }));
      attention = scaled(attention);
      ffn = scaled(ffn);
    }
    const blockTiming: BlockTiming =
      context === 'model'
        ? { context: 'model', layers: R, emptyModel: emptyContext(), scale, ...(offset !== 0 ? { offset } : {}) }
        : {
            context: 'isolated',
            overhead: { attention: overhead('attention').median, ffn: overhead('ffn').median },
            scale,
            ...(offset !== 0 ? { offset } : {}),
          };
    const samples = timer.ids().map((id) => timer.summary(id).samples);
    const build: TableBuildInfo = {
      seconds: elapsed() / 1000,
      rounds: { min: Math.min(...samples), max: Math.max(...samples) },
      warmupRuns: timer.warmupRuns,
      visitRuns: timer.visitRuns,
      renewSessionsEvery: renewEvery,
      precision: timer.precision,
      remeasured,
      monotonicity,
      additivity: { measured: denseSummary.median, predicted: predictedDense, residual: denseSummary.median / predictedDense - 1 },
      ...(calibrationInfo ? { calibration: calibrationInfo } : {}),
    };
    const table: LatencyTable = {
      format: LATENCY_TABLE_FORMAT,
      version: LATENCY_TABLE_VERSION,
      createdAt: new Date().toISOString(),
      environment: env,
      fingerprint: options.fingerprint ?? nodeDeviceFingerprint(runner.engine, runner.engineVersion),
      model: modelShapeOf(dense),
      unit: 'ms',
      dense: denseSummary,
      nonPrunable,
      ...(env.precision !== undefined ? { reference: timer.summary('model:reference') } : {}),
      prunable: denseSummary.median - nonPrunable.median,
      blockTiming,
      attention,
      ffn,
      build,
    };
    onProgress?.({ phase: 'done', elapsedMs: elapsed() });
    return table;
  } finally {
    await pool.releaseAll();
  }
}
