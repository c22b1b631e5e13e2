// The latency table (guide/latency.md): times of the dense model, of its non-prunable rest, and of one
// attention block / FFN block per kept size, for one model shape in one inference environment on
// one device. Stored as versioned JSON. Levels are keyed by KEPT counts (integers), not by the
// original's '%.4f' sparsity strings, whose formatting had to match the database keys exactly
// (guide/latency.md).

import type { ModelConfig } from '@ziplm/models';
import { type Assert, entriesObject, isJsonObject, issueField, jsonObject, type SameShape } from '@ziplm/core/schema';
import * as v from 'valibot';
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
  readonly modelType: ModelConfig['modelType'];
  readonly hiddenSize: number;
  readonly numHeads: number;
  /** LLaMA only: key/value heads of the dense model (grouped-query attention; attention levels step by whole groups). */
  readonly numKeyValueHeads?: number;
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
    ...(config.modelType === 'llama' ? { numKeyValueHeads: config.numKeyValueHeads } : {}),
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
  /**
   * False when the fit was rejected (scale outside [0.5, 2], a level time not positive, or no lower
   * held-out error than without it: each model predicted by the fit on the others); the table is
   * then uncalibrated.
   */
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
  /**
   * The clock, when the build chose runs per sample for it (browser builds, `@ziplm/latency/browser`):
   * `performance.now()`'s measured resolution (ms) and the back-to-back runs each timed sample spans
   * (its time divided by them), chosen so that a sample spans at least 100 resolution steps. Absent:
   * one run per sample (onnxruntime-node builds).
   */
  readonly timer?: { readonly resolutionMs: number; readonly runsPerSample: number };
  /** Sentences for a reader of the table about how it was measured (e.g. the timer's resolution). */
  readonly notes?: readonly string[];
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
  /** The whole dense model (guide/latency.md `base`). */
  readonly dense: TimingSummary;
  /**
   * What pruning cannot change: the whole model with every attention and FFN module removed
   * (embeddings, mask preparation, heads), timed as its own graph. Equals `base − prunable`.
   */
  readonly nonPrunable: TimingSummary;
  /**
   * INT8 tables only: the dense FP32 model, timed in the same protocol as everything else. Every
   * speedup of an INT8 table (search targets, predictions, verification) is relative to it, so a
   * target is the compound speedup over the model the user started from (guide/compound-compression.md).
   */
  readonly reference?: TimingSummary;
  /** dense − nonPrunable (guide/latency.md `prunable`). */
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
// Schema
// ---------------------------------------------------------------------------------------------
// One valibot schema describes the file; `parseLatencyTable` maps its first issue onto
// LatencyTableError (field path + problem, the wording users have always seen). What a schema
// cannot say (agreement between fields, level grids against the model shape, the environment's
// mode-dependent rules) is checked in code after parsing.

type Issue = v.BaseIssue<unknown>;

/** `problem, got <value>`. */
const got =
  (problem: string) =>
  (issue: Issue): string =>
    `${problem}, got ${JSON.stringify(issue.input)}`;

/** `problem, got <value>`, or `is missing` when there is no value (JSON has no undefined). */
const gotOrMissing =
  (problem: string) =>
  (issue: Issue): string =>
    issue.input === undefined ? 'is missing' : got(problem)(issue);

/** `problem`, or `is missing` when there is no value. */
const missingOr =
  (problem: string) =>
  (issue: Issue): string =>
    issue.input === undefined ? 'is missing' : problem;

/** A finite number >= min. */
const finiteNumber = (min: number) =>
  v.pipe(
    v.number(gotOrMissing('must be a finite number')),
    v.finite(gotOrMissing('must be a finite number')),
    v.minValue(min, (issue) => `must be >= ${min}, got ${issue.input}`),
  );

/** An integer >= min. */
const integer = (min: number) =>
  v.pipe(
    finiteNumber(min),
    v.integer((issue) => `must be an integer, got ${issue.input}`),
  );

const string = () => v.string(gotOrMissing('must be a string'));
const boolean = () => v.boolean('must be a boolean');
/** A literal or a choice among literals, e.g. `must be "bert" or "gpt2", got "llama"`. */
const oneOf = <const TOptions extends readonly string[]>(options: TOptions, expected: string, suffix = '') =>
  v.picklist(options, (issue) => `${got(`must be ${expected}`)(issue)}${suffix}`);

/** Integer options of the environment, in `validateEnvironment`'s wording. */
const environmentInteger = (min: number) =>
  v.pipe(
    v.number(got('must be an integer')),
    v.integer(got('must be an integer')),
    v.minValue(min, (issue) => `must be >= ${min}, got ${issue.input}`),
  );
const environmentChoice = <const TOptions extends readonly string[]>(options: TOptions) =>
  v.picklist(options, got(`must be one of ${options.join(', ')}`));

/** Field types of the environment; its mode-dependent rules are `validateEnvironment`'s, run after parsing. */
export const InferenceEnvironmentSchema = jsonObject(
  {
    engine: environmentChoice(['onnxruntime-node', 'onnxruntime-web']),
    threads: environmentInteger(1),
    graphOptimizationLevel: environmentChoice(['disabled', 'basic', 'extended', 'all']),
    mode: environmentChoice(['throughput', 'latency', 'generation']),
    batchSize: environmentInteger(1),
    sequenceLength: environmentInteger(1),
    pastLength: environmentInteger(0),
    allowSpinning: v.boolean(got('must be a boolean')),
    precision: v.optional(environmentChoice(['int8-dynamic', 'int8-static'])),
    backend: v.optional(environmentChoice(['wasm', 'webgpu'])),
  },
  missingOr('must be an object'),
);

const DeviceFingerprintSchema = jsonObject(
  {
    cpuModel: string(),
    logicalCores: integer(1),
    platform: string(),
    arch: string(),
    engine: string(),
    engineVersion: string(),
    runtimeVersion: string(),
    web: v.optional(
      jsonObject(
        { userAgent: string(), crossOriginIsolated: boolean(), simd: boolean(), requestedThreads: integer(1) },
        missingOr('must be an object'),
      ),
    ),
  },
  missingOr('must be an object'),
);

/** The model shape's fields (also a latency plan's, plan.ts). */
export const ModelShapeSchema = jsonObject(
  {
    modelType: oneOf(['bert', 'gpt2', 'llama'], '"bert", "gpt2" or "llama"'),
    hiddenSize: integer(1),
    numHeads: integer(1),
    numKeyValueHeads: v.optional(integer(1)),
    intermediateSize: integer(1),
    numLayers: integer(1),
    vocabSize: integer(1),
  },
  missingOr('must be an object'),
);

const TimingSummarySchema = jsonObject(
  { median: finiteNumber(0), dispersion: finiteNumber(0), relativeError: finiteNumber(0), samples: integer(1) },
  missingOr('must be an object'),
);

const blockTimingCalibration = {
  scale: v.pipe(
    finiteNumber(0),
    v.gtValue(0, (issue) => `must be > 0, got ${issue.input}`),
  ),
  offset: v.optional(finiteNumber(-Infinity)),
};

const BlockTimingSchema = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, missingOr('must be an object')),
  v.variant(
    'context',
    [
      entriesObject({ context: v.literal('model'), layers: integer(1), emptyModel: TimingSummarySchema, ...blockTimingCalibration }),
      entriesObject({
        context: v.literal('isolated'),
        overhead: jsonObject({ attention: finiteNumber(0), ffn: finiteNumber(0) }, missingOr('must be an object')),
        ...blockTimingCalibration,
      }),
    ],
    got('must be "model" or "isolated"'),
  ),
);

/** Levels of one module; the grid's agreement with the model shape is checked after parsing (`checkLevels`). */
const LevelsSchema = v.array(
  jsonObject({ kept: integer(0), time: finiteNumber(0), measured: v.optional(TimingSummarySchema) }, 'must be an object { kept, time }'),
  missingOr('must be an array of levels'),
);

const countsSchema = v.array(integer(0), 'must be an array of integers >= 0');

const TableCalibrationSchema = jsonObject(
  {
    points: v.array(
      jsonObject(
        {
          layerHeads: countsSchema,
          layerIntermediate: countsSchema,
          measured: finiteNumber(-Infinity),
          uncalibrated: finiteNumber(-Infinity),
          calibrated: finiteNumber(-Infinity),
        },
        'must be an object',
      ),
      'must be an array',
    ),
    error: finiteNumber(0),
    uncalibratedError: finiteNumber(0),
    applied: boolean(),
  },
  missingOr('must be an object'),
);

const TableBuildInfoSchema = jsonObject(
  {
    // Key order is the order of the written file (serializeLatencyTable writes the parsed table).
    calibration: v.optional(TableCalibrationSchema),
    seconds: finiteNumber(0),
    rounds: jsonObject({ min: integer(1), max: integer(1) }, missingOr('must be an object')),
    warmupRuns: integer(0),
    visitRuns: v.optional(integer(1)),
    renewSessionsEvery: v.optional(integer(0)),
    precision: finiteNumber(0),
    remeasured: v.array(string(), 'must be an array of strings'),
    monotonicity: v.array(
      jsonObject(
        {
          module: v.picklist(['attention', 'ffn'], 'must be "attention" or "ffn"'),
          smaller: integer(0),
          larger: integer(0),
          resolved: boolean(),
        },
        'must be an object',
      ),
      'must be an array',
    ),
    additivity: v.optional(
      jsonObject(
        { measured: finiteNumber(0), predicted: finiteNumber(0), residual: finiteNumber(-Infinity) },
        missingOr('must be an object'),
      ),
    ),
    timer: v.optional(
      jsonObject(
        {
          resolutionMs: v.pipe(
            finiteNumber(0),
            v.gtValue(0, (issue) => `must be > 0, got ${issue.input}`),
          ),
          runsPerSample: integer(1),
        },
        missingOr('must be an object'),
      ),
    ),
    notes: v.optional(v.array(string(), 'must be an array of strings')),
  },
  missingOr('must be an object'),
);

/**
 * The latency table file (this version), field by field. `parseLatencyTable` is the checked entry
 * point: it adds the checks between fields and maps issues onto LatencyTableError.
 */
export const LatencyTableSchema = jsonObject(
  {
    format: oneOf([LATENCY_TABLE_FORMAT], `"${LATENCY_TABLE_FORMAT}"`, ' (not a ziplm latency table?)'),
    version: v.literal(LATENCY_TABLE_VERSION, got(`must be ${LATENCY_TABLE_VERSION} (the version this @ziplm/latency reads)`)),
    createdAt: v.pipe(
      string(),
      v.check((text) => !Number.isNaN(Date.parse(text)), gotOrMissing('must be an ISO 8601 date')),
    ),
    environment: InferenceEnvironmentSchema,
    fingerprint: DeviceFingerprintSchema,
    model: ModelShapeSchema,
    unit: oneOf(['ms'], '"ms"'),
    dense: TimingSummarySchema,
    nonPrunable: TimingSummarySchema,
    reference: v.optional(TimingSummarySchema),
    prunable: finiteNumber(-Infinity),
    blockTiming: BlockTimingSchema,
    attention: LevelsSchema,
    ffn: LevelsSchema,
    build: v.optional(TableBuildInfoSchema),
  },
  'must be a JSON object',
);

// Compile-time drift check: this line stops type-checking when the schema and the documented
// `LatencyTable` disagree (a field added, removed, made optional or retyped on one side only).
type _LatencyTableSchemaMatchesType = Assert<SameShape<v.InferOutput<typeof LatencyTableSchema>, LatencyTable>>;

/**
 * A module's levels: kept sizes within the dense size and distinct, kept 0 costs no time, and both
 * the removed (0) and the dense level are present. Returns them sorted by kept size, descending.
 */
function checkLevels(levels: readonly LevelTime[], key: 'attention' | 'ffn', full: number, file?: string): LevelTime[] {
  const seen = new Set<number>();
  levels.forEach(({ kept, time }, i) => {
    const path = `${key}[${i}]`;
    if (kept > full) throw new LatencyTableError(`${path}.kept`, `must be <= the dense size ${full}, got ${kept}`, file);
    if (seen.has(kept)) throw new LatencyTableError(`${path}.kept`, `duplicates kept size ${kept}`, file);
    seen.add(kept);
    if (kept === 0 && time !== 0)
      throw new LatencyTableError(`${path}.time`, `must be 0 for kept 0 (a removed module costs no time), got ${time}`, file);
  });
  if (!seen.has(0)) throw new LatencyTableError(key, 'must contain the removed level (kept 0, time 0)', file);
  if (!seen.has(full)) throw new LatencyTableError(key, `must contain the dense level (kept ${full})`, file);
  return [...levels].sort((a, b) => b.kept - a.kept);
}

/**
 * Validates a parsed JSON document as a latency table (this schema version) and returns it typed,
 * with levels sorted by kept size (descending). Throws LatencyTableError naming `file` and the field.
 */
export function parseLatencyTable(json: unknown, file?: string): LatencyTable {
  const parsed = v.safeParse(LatencyTableSchema, json, { abortEarly: true });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new LatencyTableError(issueField(issue), issue.message, file);
  }
  const table = parsed.output;
  try {
    validateEnvironment(table.environment);
  } catch (err) {
    if (err instanceof EnvironmentError) throw new LatencyTableError(`environment.${err.field}`, err.problem, file, { cause: err });
    throw err;
  }
  if (table.environment.mode === 'generation' && table.model.modelType === 'bert') {
    throw new LatencyTableError(
      'environment.mode',
      `"generation" needs a decoder (GPT2 or LLaMA), the table's model is ${table.model.modelType}`,
      file,
    );
  }
  // Every speedup is a ratio to the dense time: a dense time of 0 (an all-zero table) makes them meaningless.
  if (!(table.dense.median > 0)) {
    throw new LatencyTableError('dense.median', `must be > 0 (every speedup is relative to it), got ${table.dense.median}`, file);
  }
  if (table.environment.precision !== undefined && table.reference === undefined)
    throw new LatencyTableError(
      'reference',
      `is missing: an ${table.environment.precision} table needs the dense FP32 model's time (the speedup reference)`,
      file,
    );
  if (table.environment.precision === undefined && table.reference !== undefined)
    throw new LatencyTableError('reference', 'must be absent in an FP32 table (its dense model is the reference)', file);
  if (table.reference !== undefined && !(table.reference.median > 0))
    throw new LatencyTableError('reference.median', `must be > 0 (every speedup is relative to it), got ${table.reference.median}`, file);
  // prunable is stored for readers of the file (the original's `prunable` line); it must agree
  // with the two measurements it is derived from.
  const expected = table.dense.median - table.nonPrunable.median;
  if (Math.abs(table.prunable - expected) > 1e-9 * Math.max(1, Math.abs(expected))) {
    throw new LatencyTableError('prunable', `must equal dense.median − nonPrunable.median = ${expected}, got ${table.prunable}`, file);
  }
  const attention = checkLevels(table.attention, 'attention', table.model.numHeads, file);
  const ffn = checkLevels(table.ffn, 'ffn', table.model.intermediateSize, file);
  // Blocks that all cost nothing were not measured: the search would see nothing to gain from pruning,
  // keep dense-size members, and fail late with an unrelated message. One module alone may be 0 (its
  // time is clamped at 0 when it is within noise of the pass-through overhead on a tiny model).
  if ([...attention, ...ffn].every((level) => level.time === 0)) {
    const dense = table.attention.findIndex((level) => level.kept === table.model.numHeads);
    throw new LatencyTableError(
      `attention[${dense}].time`,
      'is 0, as is every other attention and ffn level time: a table whose blocks cost nothing was not measured (remeasure it)',
      file,
    );
  }
  return { ...table, attention, ffn };
}

/**
 * Throws TableMismatchError when the table was measured for another model shape. The vocabulary
 * size is not compared: it does not change the block times, and the dense time it affects is
 * re-measured by `verifySpeedup`.
 */
export function checkTableMatchesModel(table: LatencyTable, config: ModelConfig | ModelShape, file?: string): void {
  const fields = ['modelType', 'hiddenSize', 'numHeads', 'numKeyValueHeads', 'intermediateSize', 'numLayers'] as const;
  const shape: ModelShape = 'layerHeads' in config ? modelShapeOf(config) : config;
  for (const f of fields) {
    if (table.model[f] !== shape[f]) {
      throw new TableMismatchError(
        `model.${f}`,
        `is ${JSON.stringify(table.model[f])} but the model has ${JSON.stringify(shape[f])}: this table was measured for another model shape`,
        file,
      );
    }
  }
}

/** The table as the JSON text `saveLatencyTable` writes (levels sorted, two-space indent). */
export function serializeLatencyTable(table: LatencyTable): string {
  // Validate first so that nothing unreadable is ever written.
  const checked = parseLatencyTable(JSON.parse(JSON.stringify(table)));
  return `${JSON.stringify(checked, null, 2)}\n`;
}
