// The latency plan: every graph a table build times, with its role and what assembling the table
// from their times needs (the model shape, the environment, the level grids, the protocol). A build
// is plan → measure → assemble: onnxruntime-node does all three in one process
// (`buildLatencyTable`); for a browser the CLI writes the plan as a directory (`ziplm latency
// --export-levels DIR`: one ONNX file per graph and `manifest.json`), and `@ziplm/latency/browser`
// measures it with onnxruntime-web on the visitor's device.
//
// A manifest and its graphs are fetched by a page from wherever it is served, so they are untrusted
// input: `parseLatencyPlanManifest` checks every field, bounds every size and count (nothing is
// allocated from a claim that was not checked), allows plain file names only (no path separators),
// and checks that the graphs are exactly the ones the grids and the context call for.
// `checkPlannedGraph` checks a graph's size and sha256 against the manifest before any engine sees it.
//
// This module has no `node:` imports: it is part of the browser entry.

import { entriesObject, issueField, jsonObject, type Assert, type SameShape } from '@ziplm/core/schema';
import * as v from 'valibot';
import type { InferenceEnvironment } from './environment.js';
import { validateEnvironment } from './environment.js';
import { EnvironmentError, LatencyPlanError } from './errors.js';
import type { ModelShape } from './table.js';
import { InferenceEnvironmentSchema, ModelShapeSchema } from './table.js';

/** Value of a manifest's `format` field. */
export const LATENCY_PLAN_FORMAT = 'ziplm-latency-plan';
/** Manifest schema version written by this package; `parseLatencyPlanManifest` reads exactly this version. */
export const LATENCY_PLAN_VERSION = 1;
/** The manifest's file name inside a plan directory. */
export const LATENCY_PLAN_MANIFEST = 'manifest.json';

/** Bounds of a manifest (far above any real model, far below what would exhaust a tab's memory). */
export const LATENCY_PLAN_LIMITS = {
  /** Largest manifest text (bytes) a reader should accept before parsing it. */
  manifestBytes: 4 << 20,
  graphs: 1024,
  levels: 4096,
  numLayers: 1024,
  /** Largest graph file: protobuf's 2 GiB limit on an ONNX model. */
  graphBytes: 2 ** 31 - 1,
  /** Largest batch × (sequence + past) tokens an input may hold. */
  tokens: 1 << 20,
  vocabSize: 1 << 22,
  hiddenSize: 1 << 16,
  numHeads: 1024,
  intermediateSize: 1 << 20,
} as const;

/** Where a planned graph's bytes are in a plan directory. */
export interface PlannedGraphFile {
  /** File name in the plan directory: letters, digits, `.`, `_`, `-`, ending in `.onnx` (no path). */
  readonly name: string;
  /** Lower-case hex sha256 of the file's bytes. */
  readonly sha256: string;
  /** The file's size in bytes. */
  readonly size: number;
}

/** Roles of whole-model graphs: the dense model, its non-prunable rest, an INT8 table's FP32 reference, the R-layer empty context model. */
export type WholeModelRole = 'dense' | 'non-prunable' | 'reference' | 'context-empty';

/**
 * One graph of a plan. `id` is the configuration's name in the timing protocol (and in
 * `build.remeasured`): `model:dense`, `model:empty`, `model:reference`, `context:empty`,
 * `attention:<kept>`, `ffn:<kept>`, `calibration:<index>`, `overhead:<module>`. `vocabSize` bounds the
 * token ids fed to it. A graph with a `file` is read from the plan directory; an `overhead` graph
 * (isolated context) is built by the measuring side from the inputs of `passThroughOf`'s session.
 */
export type PlannedGraph =
  | { readonly id: string; readonly role: WholeModelRole; readonly vocabSize: number; readonly file?: PlannedGraphFile }
  | {
      readonly id: string;
      readonly role: 'level';
      readonly module: 'attention' | 'ffn';
      /** Kept heads or neurons of every layer of the graph. */
      readonly kept: number;
      readonly vocabSize: number;
      readonly file?: PlannedGraphFile;
    }
  | {
      readonly id: string;
      readonly role: 'calibration';
      readonly index: number;
      readonly layerHeads: readonly number[];
      readonly layerIntermediate: readonly number[];
      readonly vocabSize: number;
      readonly file?: PlannedGraphFile;
    }
  | {
      readonly id: string;
      readonly role: 'overhead';
      readonly module: 'attention' | 'ffn';
      /** The level graph whose inputs the pass-through graph takes. */
      readonly passThroughOf: string;
      /** Its main input, passed through (`ONNX_NAMES.blockInput` of @ziplm/models). */
      readonly blockInput: string;
      /** The name of the pass-through output (`ONNX_NAMES.blockOutput`). */
      readonly blockOutput: string;
      readonly vocabSize: number;
    };

/** The protocol settings of a plan (`ProtocolOptions` and the build options that shape the measurement). Absent: the protocol's default. */
export interface PlanProtocol {
  readonly warmupRuns?: number;
  readonly minRounds?: number;
  readonly maxRounds?: number;
  readonly precision?: number;
  readonly timeBudgetMs?: number;
  readonly visitRuns: number;
  readonly renewSessionsEvery: number;
  readonly seed: number;
  readonly monotonicityTolerance: number;
  readonly remeasureRounds?: number;
  readonly enforceMonotonicity: boolean;
}

/** What a table build times and how (see the module comment); JSON-serialisable. */
export interface LatencyTablePlan {
  /** The dense model's shape, recorded in the table. */
  readonly model: ModelShape;
  /**
   * The environment the graphs were exported for. Its workload (mode, batch, lengths, precision)
   * holds wherever the plan is measured; a browser replaces the engine settings with its own.
   */
  readonly environment: InferenceEnvironment;
  /** How levels are timed (`BlockTiming`): inside R-layer context models or as isolated blocks. */
  readonly context: 'model' | 'isolated';
  /** R, the layers of the context models (meaningful in the 'model' context). */
  readonly contextLayers: number;
  /** Kept head counts timed, descending, from numHeads to 0. */
  readonly attentionLevels: readonly number[];
  /** Kept FFN sizes timed, descending, from intermediateSize to 0. */
  readonly ffnLevels: readonly number[];
  /** Scale level times to reproduce the dense model (`BuildTableOptions.calibrateToDense`). */
  readonly calibrateToDense: boolean;
  readonly protocol: PlanProtocol;
  /** Every graph to time, in the order the protocol registers them. */
  readonly graphs: readonly PlannedGraph[];
}

/** A plan as written to a directory: the plan, every file-backed graph with its `file`. */
export interface LatencyPlanManifest extends LatencyTablePlan {
  readonly format: typeof LATENCY_PLAN_FORMAT;
  readonly version: typeof LATENCY_PLAN_VERSION;
  /** ISO 8601 time the plan was written. */
  readonly createdAt: string;
}

/** The protocol id of a graph with this role (see `PlannedGraph`). */
export function plannedGraphId(graph: PlannedGraph): string {
  switch (graph.role) {
    case 'dense':
      return 'model:dense';
    case 'non-prunable':
      return 'model:empty';
    case 'reference':
      return 'model:reference';
    case 'context-empty':
      return 'context:empty';
    case 'level':
      return `${graph.module}:${graph.kept}`;
    case 'calibration':
      return `calibration:${graph.index}`;
    case 'overhead':
      return `overhead:${graph.module}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

const L = LATENCY_PLAN_LIMITS;
const bounded = (min: number, max: number, what = 'an integer') =>
  v.pipe(
    v.number(`must be ${what} in [${min}, ${max}]`),
    v.integer(`must be ${what} in [${min}, ${max}]`),
    v.minValue(min, `must be ${what} in [${min}, ${max}]`),
    v.maxValue(max, `must be ${what} in [${min}, ${max}]`),
  );
const positiveNumber = v.pipe(
  v.number('must be a finite number > 0'),
  v.finite('must be a finite number > 0'),
  v.gtValue(0, 'must be > 0'),
);
const identifier = v.pipe(v.string('must be a string'), v.regex(/^[a-z-]+:[a-z0-9]+$/, 'must be a graph id such as "ffn:128"'));
const counts = (max: number) =>
  v.pipe(v.array(bounded(0, max), 'must be an array of integers'), v.maxLength(L.levels, `must have at most ${L.levels} entries`));
const module = v.picklist(['attention', 'ffn'], 'must be "attention" or "ffn"');
const vocabSize = bounded(1, L.vocabSize);

const FileSchema = jsonObject(
  {
    name: v.pipe(
      v.string('must be a string'),
      v.maxLength(128, 'must be at most 128 characters'),
      v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.onnx$/, 'must be a plain file name ending in .onnx (letters, digits, ".", "_", "-"; no path)'),
    ),
    sha256: v.pipe(v.string('must be a string'), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits')),
    size: bounded(1, L.graphBytes),
  },
  'must be an object { name, sha256, size }',
);

const GraphSchema = v.pipe(
  v.custom<Record<string, unknown>>((x) => typeof x === 'object' && x !== null && !Array.isArray(x), 'must be an object'),
  v.variant(
    'role',
    [
      entriesObject({
        id: identifier,
        role: v.picklist(['dense', 'non-prunable', 'reference', 'context-empty']),
        vocabSize,
        file: v.optional(FileSchema),
      }),
      entriesObject({
        id: identifier,
        role: v.literal('level'),
        module,
        kept: bounded(1, L.intermediateSize),
        vocabSize,
        file: v.optional(FileSchema),
      }),
      entriesObject({
        id: identifier,
        role: v.literal('calibration'),
        index: bounded(0, L.graphs),
        layerHeads: counts(L.numHeads),
        layerIntermediate: counts(L.intermediateSize),
        vocabSize,
        file: v.optional(FileSchema),
      }),
      entriesObject({
        id: identifier,
        role: v.literal('overhead'),
        module,
        passThroughOf: identifier,
        blockInput: v.pipe(v.string('must be a string'), v.maxLength(256, 'must be at most 256 characters')),
        blockOutput: v.pipe(v.string('must be a string'), v.maxLength(256, 'must be at most 256 characters')),
        vocabSize,
      }),
    ],
    'must be "dense", "non-prunable", "reference", "context-empty", "level", "calibration" or "overhead"',
  ),
);

const ProtocolSchema = jsonObject(
  {
    warmupRuns: v.optional(bounded(0, 1000)),
    minRounds: v.optional(bounded(1, 100_000)),
    maxRounds: v.optional(bounded(1, 100_000)),
    precision: v.optional(positiveNumber),
    timeBudgetMs: v.optional(positiveNumber),
    visitRuns: bounded(1, 1000),
    renewSessionsEvery: bounded(0, 100_000),
    seed: v.pipe(v.number('must be an integer'), v.integer('must be an integer'), v.safeInteger('must be a safe integer')),
    monotonicityTolerance: v.pipe(
      v.number('must be a finite number >= 0'),
      v.finite('must be a finite number >= 0'),
      v.minValue(0, 'must be >= 0'),
    ),
    remeasureRounds: v.optional(bounded(0, 100_000)),
    enforceMonotonicity: v.boolean('must be a boolean'),
  },
  'must be an object',
);

/** The manifest file (this version), field by field; `parseLatencyPlanManifest` adds the checks between fields. */
export const LatencyPlanManifestSchema = jsonObject(
  {
    format: v.literal(LATENCY_PLAN_FORMAT, `must be "${LATENCY_PLAN_FORMAT}" (not a ziplm latency plan?)`),
    version: v.literal(LATENCY_PLAN_VERSION, `must be ${LATENCY_PLAN_VERSION} (the version this @ziplm/latency reads)`),
    createdAt: v.pipe(
      v.string('must be a string'),
      v.maxLength(64, 'must be an ISO 8601 date'),
      v.check((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 date'),
    ),
    model: ModelShapeSchema,
    environment: InferenceEnvironmentSchema,
    context: v.picklist(['model', 'isolated'], 'must be "model" or "isolated"'),
    contextLayers: bounded(1, L.numLayers),
    attentionLevels: counts(L.numHeads),
    ffnLevels: counts(L.intermediateSize),
    calibrateToDense: v.boolean('must be a boolean'),
    protocol: ProtocolSchema,
    graphs: v.pipe(v.array(GraphSchema, 'must be an array of graphs'), v.maxLength(L.graphs, `must have at most ${L.graphs} graphs`)),
  },
  'must be a JSON object',
);

type _ManifestSchemaMatchesType = Assert<SameShape<v.InferOutput<typeof LatencyPlanManifestSchema>, LatencyPlanManifest>>;

/**
 * Checks the agreement between a plan's fields: the model shape within bounds, the environment valid
 * and its inputs bounded, the grids sorted and complete, every graph's id its role's, no duplicate
 * id or file, exactly the graphs the grids and the context call for, and (`requireFiles`) a file for
 * every graph but the overheads. Throws LatencyPlanError naming `file` and the field.
 */
export function checkLatencyPlan(plan: LatencyTablePlan, file: string, requireFiles: boolean): void {
  const fail = (field: string, problem: string, options?: ErrorOptions): never => {
    throw new LatencyPlanError(file, `field "${field}" ${problem}`, options);
  };
  const { model, environment: env } = plan;
  for (const [key, max] of [
    ['hiddenSize', L.hiddenSize],
    ['numHeads', L.numHeads],
    ['intermediateSize', L.intermediateSize],
    ['numLayers', L.numLayers],
    ['vocabSize', L.vocabSize],
  ] as const) {
    if (model[key] > max) fail(`model.${key}`, `must be <= ${max}, got ${model[key]}`);
  }
  try {
    validateEnvironment(env);
  } catch (err) {
    if (err instanceof EnvironmentError) fail(`environment.${err.field}`, err.problem, { cause: err });
    throw err;
  }
  if (env.batchSize * (env.sequenceLength + env.pastLength) > L.tokens)
    fail('environment', `feeds more than ${L.tokens} tokens per run (batch × (sequence + past))`);
  if (env.mode === 'generation' && model.modelType === 'bert') fail('environment.mode', '"generation" needs a decoder (GPT2 or LLaMA)');
  const checkGrid = (key: 'attentionLevels' | 'ffnLevels', full: number) => {
    const grid = plan[key];
    grid.forEach((k, i) => {
      if (k > full) fail(`${key}[${i}]`, `must be <= ${full}, got ${k}`);
      if (i > 0 && k >= grid[i - 1]!) fail(`${key}[${i}]`, `must be below the previous level (levels descend), got ${k}`);
    });
    if (grid[0] !== full) fail(key, `must start with the dense size ${full}`);
    if (grid[grid.length - 1] !== 0) fail(key, 'must end with 0 (module removed)');
  };
  checkGrid('attentionLevels', model.numHeads);
  checkGrid('ffnLevels', model.intermediateSize);
  const { protocol } = plan;
  if (protocol.minRounds !== undefined && protocol.maxRounds !== undefined && protocol.maxRounds < protocol.minRounds)
    fail('protocol.maxRounds', `must be >= protocol.minRounds (${protocol.minRounds}), got ${protocol.maxRounds}`);

  const ids = new Set<string>();
  const files = new Set<string>();
  const expected = new Set<string>([
    'model:dense',
    'model:empty',
    ...(env.precision !== undefined ? ['model:reference'] : []),
    ...(plan.context === 'model' ? ['context:empty'] : ['overhead:attention', 'overhead:ffn']),
    ...plan.attentionLevels.filter((k) => k > 0).map((k) => `attention:${k}`),
    ...plan.ffnLevels.filter((k) => k > 0).map((k) => `ffn:${k}`),
  ]);
  let calibrationCount = 0;
  plan.graphs.forEach((graph, i) => {
    const at = `graphs[${i}]`;
    const id = plannedGraphId(graph);
    if (graph.id !== id) fail(`${at}.id`, `must be "${id}" for this role, got ${JSON.stringify(graph.id)}`);
    if (ids.has(id)) fail(`${at}.id`, `duplicates graph "${id}"`);
    ids.add(id);
    if (graph.vocabSize > model.vocabSize) fail(`${at}.vocabSize`, `must be <= the model's ${model.vocabSize}, got ${graph.vocabSize}`);
    if (graph.role === 'overhead') {
      if (!ids.has(graph.passThroughOf) || !graph.passThroughOf.startsWith(`${graph.module}:`))
        fail(`${at}.passThroughOf`, `must name an earlier ${graph.module} level graph, got ${JSON.stringify(graph.passThroughOf)}`);
    } else {
      if (graph.file) {
        if (files.has(graph.file.name)) fail(`${at}.file.name`, `duplicates file "${graph.file.name}"`);
        files.add(graph.file.name);
      } else if (requireFiles) fail(`${at}.file`, 'is missing');
    }
    if (graph.role === 'calibration') {
      if (graph.index !== calibrationCount) fail(`${at}.index`, `must be ${calibrationCount} (calibration graphs are numbered in order)`);
      calibrationCount++;
      for (const [key, grid] of [
        ['layerHeads', plan.attentionLevels],
        ['layerIntermediate', plan.ffnLevels],
      ] as const) {
        const sizes = graph[key];
        if (sizes.length !== model.numLayers)
          fail(`${at}.${key}`, `must have ${model.numLayers} entries (one per layer), got ${sizes.length}`);
        sizes.forEach((k, l) => {
          if (!grid.includes(k)) fail(`${at}.${key}[${l}]`, `must be a level of the grid, got ${k}`);
        });
      }
    } else if (!expected.has(id)) fail(`${at}`, `is graph "${id}", which this plan's grids and context do not call for`);
  });
  for (const id of expected) if (!ids.has(id)) fail('graphs', `lack graph "${id}"`);
  if (calibrationCount > 0 && plan.calibrateToDense) fail('calibrateToDense', 'must be false when calibration graphs are planned');
}

/**
 * Validates a parsed manifest (this version) and returns it typed. Throws LatencyPlanError naming
 * `file` and the first field at fault.
 */
export function parseLatencyPlanManifest(json: unknown, file = LATENCY_PLAN_MANIFEST): LatencyPlanManifest {
  const parsed = v.safeParse(LatencyPlanManifestSchema, json, { abortEarly: true });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new LatencyPlanError(file, `field "${issueField(issue)}" ${issue.input === undefined ? 'is missing' : issue.message}`);
  }
  checkLatencyPlan(parsed.output, file, true);
  return parsed.output;
}

/** Lower-case hex sha256 of `bytes` (Web Crypto: browsers and Node 20 alike). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Web Crypto takes no view of a SharedArrayBuffer: copy those (a wasm heap's bytes).
  const data = bytes.buffer instanceof ArrayBuffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes.slice();
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** Throws LatencyPlanError unless `bytes` are the graph file the manifest names (size, then sha256). */
export async function checkPlannedGraph(file: PlannedGraphFile, bytes: Uint8Array): Promise<void> {
  if (bytes.byteLength !== file.size)
    throw new LatencyPlanError(file.name, `has ${bytes.byteLength} bytes, the manifest says ${file.size}`);
  const sha = await sha256Hex(bytes);
  if (sha !== file.sha256)
    throw new LatencyPlanError(file.name, `has sha256 ${sha}, the manifest says ${file.sha256} (altered or another plan's file)`);
}
