// The latency table (method doc §5): times of the dense model, of its non-prunable rest, and of one
// attention block / FFN block per kept size, for one model shape in one inference environment on
// one device. Stored as versioned JSON. Levels are keyed by KEPT counts (integers), not by the
// original's '%.4f' sparsity strings, whose formatting had to match the database keys exactly
// (method doc §10 item 10).

import type { ModelConfig } from '@ziplm/models';
import type { DeviceFingerprint, InferenceEnvironment } from './environment.js';
import { validateEnvironment } from './environment.js';
import { EnvironmentError, LatencyTableError, TableMismatchError } from './errors.js';
import type { TimingSummary } from './stats.js';

/** Value of the `format` field: identifies a ziplm latency table among JSON files. */
export const LATENCY_TABLE_FORMAT = 'ziplm-latency-table';
/** Schema version written by this package; `parseLatencyTable` reads exactly this version. */
export const LATENCY_TABLE_VERSION = 1;

/** The model dimensions a table's times depend on. */
export interface ModelShape {
  readonly modelType: 'bert' | 'gpt2';
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  /** Informational: the vocabulary changes the dense model's time (GPT2's LM head), not the blocks'. */
  readonly vocabSize: number;
}

/** The shape of a (dense) model config as recorded in a table. */
export function modelShapeOf(config: ModelConfig): ModelShape {
  return {
    modelType: config.modelType,
    hiddenSize: config.hiddenSize,
    numHeads: config.numHeads,
    intermediateSize: config.intermediateSize,
    numLayers: config.numLayers,
    vocabSize: config.vocabSize,
  };
}

/** The time one module (attention or FFN block) adds to a layer at one kept size. */
export interface LevelTime {
  /** Kept heads (attention) or neurons (FFN); 0 = module removed. */
  readonly kept: number;
  /**
   * Milliseconds the runtime model adds for one layer at this level (0 for kept 0: a removed
   * module costs nothing); derived from `measured` as the table's `blockTiming` says.
   */
  readonly time: number;
  /** The raw measurement behind `time` (see `BlockTiming`); absent for kept 0 and for hand-made tables. */
  readonly measured?: TimingSummary;
}

/**
 * How level times were measured.
 *
 * - `model`: each level inside a whole model built by the shipped exporter: a `layers`-layer model
 *   whose every layer has that level and the other module removed, minus the same model with every
 *   module removed (`emptyModel`), divided by `layers`. The block runs where it runs in a pruned
 *   model: after another layer, on activations just written, with the attention mask prepared once
 *   per model and no per-run cost of its own. `LevelTime.measured` is the whole `layers`-layer model.
 * - `isolated`: each level as a single-block graph (`exportAttentionBlock` / `exportFfnBlock`),
 *   minus `overhead`, the per-run cost of a pass-through graph with the block's inputs (run
 *   dispatch, handing the output back), which a block inside a model does not pay. Cheaper (one
 *   block per level) but blind to context effects. `LevelTime.measured` is the block graph.
 */
export type BlockTiming = (
  | { readonly context: 'model'; readonly layers: number; readonly emptyModel: TimingSummary }
  | { readonly context: 'isolated'; readonly overhead: { readonly attention: number; readonly ffn: number } }
) & {
  /**
   * Factor applied to every level time after the above (1 = none). With the build option
   * `calibrateToDense` it is (dense − nonPrunable) / (numLayers · (t_attention(full) + t_ffn(full))),
   * which makes the runtime model reproduce the measured dense model exactly.
   */
  readonly scale: number;
  /**
   * Time (ms) added to every present (kept > 0) level after `scale`: a fixed cost per module that
   * the level measurements miss or over-count. Set by whole-model calibration
   * (`TableBuildInfo.calibration`); absent or 0 otherwise.
   */
  readonly offset?: number;
};

/** One whole model timed to calibrate the level times (`TableBuildInfo.calibration`). */
export interface CalibrationPoint {
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** Measured time of the layers (ms): whole model minus the non-prunable rest. */
  readonly measured: number;
  /** The same from the uncalibrated level times (ms). */
  readonly uncalibrated: number;
  /** The same from the calibrated level times (ms). */
  readonly calibrated: number;
}

/**
 * Whole-model calibration of the runtime model: several pruned models (random per-layer levels of
 * the table's grids, spread over the speedup range) and the dense model are timed in the same
 * protocol as the levels, and `blockTiming.scale` / `blockTiming.offset` are the weighted
 * least-squares fit measured ≈ scale · Σ level times + offset · (present modules).
 */
export interface TableCalibration {
  readonly points: readonly CalibrationPoint[];
  /** Largest |calibrated / measured − 1| over the points (before the fit: `uncalibratedError`). */
  readonly error: number;
  readonly uncalibratedError: number;
  /** False when the fit was rejected (scale outside [0.5, 2], a level time not positive, or no lower RMS error than without it); the table is then uncalibrated. */
  readonly applied: boolean;
}

/** How a table was built: protocol settings and what the sanity checks found. */
export interface TableBuildInfo {
  /** Wall-clock seconds of the whole build (session creation included). */
  readonly seconds: number;
  /** Rounds of the interleaved protocol (minimum and the most any point got). */
  readonly rounds: { readonly min: number; readonly max: number };
  readonly warmupRuns: number;
  /** Runs per visit of a configuration, the last one timed (`ProtocolOptions.visitRuns`); absent in tables built before it existed (1). */
  readonly visitRuns?: number;
  /** Rounds between renewals of every engine session (0 = never); absent in older tables. */
  readonly renewSessionsEvery?: number;
  /** Target relative standard error of every median. */
  readonly precision: number;
  /** Points that got extra rounds because their median was not yet precise enough. */
  readonly remeasured: readonly string[];
  /** Monotonicity violations (a larger level measured faster beyond noise), and whether re-measuring fixed them. */
  readonly monotonicity: ReadonlyArray<{
    readonly module: 'attention' | 'ffn';
    readonly smaller: number;
    readonly larger: number;
    readonly resolved: boolean;
  }>;
  /**
   * Whole-model additivity check: `dense` (measured) against nonPrunable + numLayers · (attention
   * and FFN times at full size) (predicted, before any `blockTiming.scale`); `residual` = measured /
   * predicted − 1.
   */
  readonly additivity?: { readonly measured: number; readonly predicted: number; readonly residual: number };
  /** Whole-model calibration, when the build ran it (`BuildTableOptions.calibrationModels`). */
  readonly calibration?: TableCalibration;
}

export interface LatencyTable {
  readonly format: typeof LATENCY_TABLE_FORMAT;
  readonly version: typeof LATENCY_TABLE_VERSION;
  /** ISO 8601 time of the build. */
  readonly createdAt: string;
  readonly environment: InferenceEnvironment;
  readonly fingerprint: DeviceFingerprint;
  readonly model: ModelShape;
  /** Time unit of every number below. */
  readonly unit: 'ms';
  /** The whole dense model (method doc §5 `base`). */
  readonly dense: TimingSummary;
  /**
   * What pruning cannot change: the whole model with every attention and FFN module removed
   * (embeddings, mask preparation, heads), timed as its own graph. Equals `base − prunable`.
   */
  readonly nonPrunable: TimingSummary;
  /** dense − nonPrunable (method doc §5 `prunable`). */
  readonly prunable: number;
  /** How the level times were obtained (see `BlockTiming`). */
  readonly blockTiming: BlockTiming;
  /** Attention levels, kept descending from numHeads to 0. */
  readonly attention: readonly LevelTime[];
  /** FFN levels, kept descending from intermediateSize to 0. */
  readonly ffn: readonly LevelTime[];
  readonly build?: TableBuildInfo;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(parent: Json, key: string, path: string, file?: string): Json {
  const v = parent[key];
  if (!isObject(v)) throw new LatencyTableError(path, v === undefined ? 'is missing' : 'must be an object', file);
  return v;
}

function str(parent: Json, key: string, path: string, file?: string): string {
  const v = parent[key];
  if (typeof v !== 'string') throw new LatencyTableError(path, v === undefined ? 'is missing' : `must be a string, got ${JSON.stringify(v)}`, file);
  return v;
}

function num(parent: Json, key: string, path: string, file: string | undefined, min = 0): number {
  const v = parent[key];
  if (v === undefined) throw new LatencyTableError(path, 'is missing', file);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new LatencyTableError(path, `must be a finite number, got ${JSON.stringify(v)}`, file);
  if (v < min) throw new LatencyTableError(path, `must be >= ${min}, got ${v}`, file);
  return v;
}

function int(parent: Json, key: string, path: string, file: string | undefined, min = 0): number {
  const v = num(parent, key, path, file, min);
  if (!Number.isInteger(v)) throw new LatencyTableError(path, `must be an integer, got ${v}`, file);
  return v;
}

function summary(parent: Json, key: string, path: string, file?: string): TimingSummary {
  const o = obj(parent, key, path, file);
  return {
    median: num(o, 'median', `${path}.median`, file),
    dispersion: num(o, 'dispersion', `${path}.dispersion`, file),
    relativeError: num(o, 'relativeError', `${path}.relativeError`, file),
    samples: int(o, 'samples', `${path}.samples`, file, 1),
  };
}

function levels(parent: Json, key: string, full: number, file?: string): LevelTime[] {
  const v = parent[key];
  if (!Array.isArray(v)) throw new LatencyTableError(key, v === undefined ? 'is missing' : 'must be an array of levels', file);
  const out: LevelTime[] = [];
  const seen = new Set<number>();
  v.forEach((entry: unknown, i: number) => {
    const path = `${key}[${i}]`;
    if (!isObject(entry)) throw new LatencyTableError(path, 'must be an object { kept, time }', file);
    const kept = int(entry, 'kept', `${path}.kept`, file, 0);
    if (kept > full) throw new LatencyTableError(`${path}.kept`, `must be <= the dense size ${full}, got ${kept}`, file);
    if (seen.has(kept)) throw new LatencyTableError(`${path}.kept`, `duplicates kept size ${kept}`, file);
    seen.add(kept);
    const time = num(entry, 'time', `${path}.time`, file);
    if (kept === 0 && time !== 0) throw new LatencyTableError(`${path}.time`, `must be 0 for kept 0 (a removed module costs no time), got ${time}`, file);
    const level: LevelTime = entry.measured === undefined ? { kept, time } : { kept, time, measured: summary(entry, 'measured', `${path}.measured`, file) };
    out.push(level);
  });
  if (!seen.has(0)) throw new LatencyTableError(key, 'must contain the removed level (kept 0, time 0)', file);
  if (!seen.has(full)) throw new LatencyTableError(key, `must contain the dense level (kept ${full})`, file);
  return out.sort((a, b) => b.kept - a.kept);
}

function buildInfo(parent: Json, file?: string): TableBuildInfo | undefined {
  if (parent.build === undefined) return undefined;
  const b = obj(parent, 'build', 'build', file);
  const rounds = obj(b, 'rounds', 'build.rounds', file);
  const remeasured = b.remeasured;
  if (!Array.isArray(remeasured) || remeasured.some((r) => typeof r !== 'string')) {
    throw new LatencyTableError('build.remeasured', 'must be an array of strings', file);
  }
  const mono = b.monotonicity;
  if (!Array.isArray(mono)) throw new LatencyTableError('build.monotonicity', 'must be an array', file);
  const monotonicity = mono.map((m: unknown, i: number): TableBuildInfo['monotonicity'][number] => {
    const path = `build.monotonicity[${i}]`;
    if (!isObject(m)) throw new LatencyTableError(path, 'must be an object', file);
    const module = m.module;
    if (module !== 'attention' && module !== 'ffn') throw new LatencyTableError(`${path}.module`, 'must be "attention" or "ffn"', file);
    if (typeof m.resolved !== 'boolean') throw new LatencyTableError(`${path}.resolved`, 'must be a boolean', file);
    return { module, smaller: int(m, 'smaller', `${path}.smaller`, file), larger: int(m, 'larger', `${path}.larger`, file), resolved: m.resolved };
  });
  let additivity: TableBuildInfo['additivity'];
  if (b.additivity !== undefined) {
    const a = obj(b, 'additivity', 'build.additivity', file);
    additivity = {
      measured: num(a, 'measured', 'build.additivity.measured', file),
      predicted: num(a, 'predicted', 'build.additivity.predicted', file),
      residual: num(a, 'residual', 'build.additivity.residual', file, -Infinity),
    };
  }
  let calibration: TableCalibration | undefined;
  if (b.calibration !== undefined) {
    const c = obj(b, 'calibration', 'build.calibration', file);
    if (!Array.isArray(c.points)) throw new LatencyTableError('build.calibration.points', 'must be an array', file);
    const points = (c.points as unknown[]).map((p, i): CalibrationPoint => {
      const path = `build.calibration.points[${i}]`;
      if (!isObject(p)) throw new LatencyTableError(path, 'must be an object', file);
      const list = (key: string) => {
        const v = p[key];
        if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) throw new LatencyTableError(`${path}.${key}`, 'must be an array of integers >= 0', file);
        return v as number[];
      };
      return {
        layerHeads: list('layerHeads'),
        layerIntermediate: list('layerIntermediate'),
        measured: num(p, 'measured', `${path}.measured`, file, -Infinity),
        uncalibrated: num(p, 'uncalibrated', `${path}.uncalibrated`, file, -Infinity),
        calibrated: num(p, 'calibrated', `${path}.calibrated`, file, -Infinity),
      };
    });
    if (typeof c.applied !== 'boolean') throw new LatencyTableError('build.calibration.applied', 'must be a boolean', file);
    calibration = { points, error: num(c, 'error', 'build.calibration.error', file), uncalibratedError: num(c, 'uncalibratedError', 'build.calibration.uncalibratedError', file), applied: c.applied };
  }
  return {
    ...(calibration ? { calibration } : {}),
    seconds: num(b, 'seconds', 'build.seconds', file),
    rounds: { min: int(rounds, 'min', 'build.rounds.min', file, 1), max: int(rounds, 'max', 'build.rounds.max', file, 1) },
    warmupRuns: int(b, 'warmupRuns', 'build.warmupRuns', file),
    ...(b.visitRuns !== undefined ? { visitRuns: int(b, 'visitRuns', 'build.visitRuns', file, 1) } : {}),
    ...(b.renewSessionsEvery !== undefined ? { renewSessionsEvery: int(b, 'renewSessionsEvery', 'build.renewSessionsEvery', file) } : {}),
    precision: num(b, 'precision', 'build.precision', file),
    remeasured: remeasured as string[],
    monotonicity,
    ...(additivity ? { additivity } : {}),
  };
}

/**
 * Validates a parsed JSON document as a latency table (this schema version) and returns it typed,
 * with levels sorted by kept size (descending). Throws LatencyTableError naming `file` and the field.
 */
export function parseLatencyTable(json: unknown, file?: string): LatencyTable {
  if (!isObject(json)) throw new LatencyTableError('(root)', 'must be a JSON object', file);
  if (json.format !== LATENCY_TABLE_FORMAT) {
    throw new LatencyTableError('format', `must be "${LATENCY_TABLE_FORMAT}", got ${JSON.stringify(json.format)} (not a ziplm latency table?)`, file);
  }
  if (json.version !== LATENCY_TABLE_VERSION) {
    throw new LatencyTableError('version', `must be ${LATENCY_TABLE_VERSION} (the version this @ziplm/latency reads), got ${JSON.stringify(json.version)}`, file);
  }
  const createdAt = str(json, 'createdAt', 'createdAt', file);
  if (Number.isNaN(Date.parse(createdAt))) throw new LatencyTableError('createdAt', `must be an ISO 8601 date, got ${JSON.stringify(createdAt)}`, file);
  if (json.unit !== 'ms') throw new LatencyTableError('unit', `must be "ms", got ${JSON.stringify(json.unit)}`, file);

  const e = obj(json, 'environment', 'environment', file);
  const environment = {
    engine: e.engine,
    threads: e.threads,
    graphOptimizationLevel: e.graphOptimizationLevel,
    mode: e.mode,
    batchSize: e.batchSize,
    sequenceLength: e.sequenceLength,
    pastLength: e.pastLength,
    allowSpinning: e.allowSpinning,
  } as InferenceEnvironment;
  try {
    validateEnvironment(environment);
  } catch (err) {
    if (err instanceof EnvironmentError) throw new LatencyTableError(`environment.${err.field}`, err.problem, file);
    throw err;
  }

  const f = obj(json, 'fingerprint', 'fingerprint', file);
  const fingerprint: DeviceFingerprint = {
    cpuModel: str(f, 'cpuModel', 'fingerprint.cpuModel', file),
    logicalCores: int(f, 'logicalCores', 'fingerprint.logicalCores', file, 1),
    platform: str(f, 'platform', 'fingerprint.platform', file),
    arch: str(f, 'arch', 'fingerprint.arch', file),
    engine: str(f, 'engine', 'fingerprint.engine', file),
    engineVersion: str(f, 'engineVersion', 'fingerprint.engineVersion', file),
    runtimeVersion: str(f, 'runtimeVersion', 'fingerprint.runtimeVersion', file),
  };

  const m = obj(json, 'model', 'model', file);
  if (m.modelType !== 'bert' && m.modelType !== 'gpt2') throw new LatencyTableError('model.modelType', `must be "bert" or "gpt2", got ${JSON.stringify(m.modelType)}`, file);
  const model: ModelShape = {
    modelType: m.modelType,
    hiddenSize: int(m, 'hiddenSize', 'model.hiddenSize', file, 1),
    numHeads: int(m, 'numHeads', 'model.numHeads', file, 1),
    intermediateSize: int(m, 'intermediateSize', 'model.intermediateSize', file, 1),
    numLayers: int(m, 'numLayers', 'model.numLayers', file, 1),
    vocabSize: int(m, 'vocabSize', 'model.vocabSize', file, 1),
  };
  if (environment.mode === 'generation' && model.modelType !== 'gpt2') {
    throw new LatencyTableError('environment.mode', `"generation" needs a GPT2 model, the table's model is ${model.modelType}`, file);
  }

  const dense = summary(json, 'dense', 'dense', file);
  const nonPrunable = summary(json, 'nonPrunable', 'nonPrunable', file);
  const prunable = num(json, 'prunable', 'prunable', file, -Infinity);
  // prunable is stored for readers of the file (the original's `prunable` line); it must agree
  // with the two measurements it is derived from.
  const expected = dense.median - nonPrunable.median;
  if (Math.abs(prunable - expected) > 1e-9 * Math.max(1, Math.abs(expected))) {
    throw new LatencyTableError('prunable', `must equal dense.median − nonPrunable.median = ${expected}, got ${prunable}`, file);
  }
  const bt = obj(json, 'blockTiming', 'blockTiming', file);
  let blockTiming: BlockTiming;
  const scale = num(bt, 'scale', 'blockTiming.scale', file);
  if (!(scale > 0)) throw new LatencyTableError('blockTiming.scale', `must be > 0, got ${scale}`, file);
  const offset = bt.offset === undefined ? {} : { offset: num(bt, 'offset', 'blockTiming.offset', file, -Infinity) };
  if (bt.context === 'model') {
    blockTiming = { context: 'model', layers: int(bt, 'layers', 'blockTiming.layers', file, 1), emptyModel: summary(bt, 'emptyModel', 'blockTiming.emptyModel', file), scale, ...offset };
  } else if (bt.context === 'isolated') {
    const o = obj(bt, 'overhead', 'blockTiming.overhead', file);
    blockTiming = {
      context: 'isolated',
      overhead: { attention: num(o, 'attention', 'blockTiming.overhead.attention', file), ffn: num(o, 'ffn', 'blockTiming.overhead.ffn', file) },
      scale,
      ...offset,
    };
  } else {
    throw new LatencyTableError('blockTiming.context', `must be "model" or "isolated", got ${JSON.stringify(bt.context)}`, file);
  }
  const attention = levels(json, 'attention', model.numHeads, file);
  const ffn = levels(json, 'ffn', model.intermediateSize, file);
  const build = buildInfo(json, file);
  return {
    format: LATENCY_TABLE_FORMAT,
    version: LATENCY_TABLE_VERSION,
    createdAt,
    environment,
    fingerprint,
    model,
    unit: 'ms',
    dense,
    nonPrunable,
    prunable,
    blockTiming,
    attention,
    ffn,
    ...(build ? { build } : {}),
  };
}

/**
 * Throws TableMismatchError when the table was measured for another model shape. The vocabulary
 * size is not compared: it does not change the block times, and the dense time it affects is
 * re-measured by `verifySpeedup`.
 */
export function checkTableMatchesModel(table: LatencyTable, config: ModelConfig | ModelShape, file?: string): void {
  const fields = ['modelType', 'hiddenSize', 'numHeads', 'intermediateSize', 'numLayers'] as const;
  for (const f of fields) {
    if (table.model[f] !== config[f]) {
      throw new TableMismatchError(`model.${f}`, `is ${JSON.stringify(table.model[f])} but the model has ${JSON.stringify(config[f])}: this table was measured for another model shape`, file);
    }
  }
}

/** The table as the JSON text `saveLatencyTable` writes (levels sorted, two-space indent). */
export function serializeLatencyTable(table: LatencyTable): string {
  // Validate first so that nothing unreadable is ever written.
  const checked = parseLatencyTable(JSON.parse(JSON.stringify(table)));
  return `${JSON.stringify(checked, null, 2)}\n`;
}
