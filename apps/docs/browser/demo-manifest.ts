// The demo page's manifest (public/demo/<model>/manifest.json): which ONNX graphs and vocabulary the page
// loads, their sizes and SHA-256, and what the build measured about each member in Node. Written by
// scripts/browser-assets.ts, read by the page (browser/demo-runtime.ts) and by the browser test
// (test/e2e/demo-page.test.ts). Browser-safe: no `node:` imports.

/** A file next to the manifest, with what the page checks before using it. */
export interface DemoAsset {
  /** File name relative to the manifest's folder. */
  readonly file: string;
  readonly bytes: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

/** One model the page runs: the dense model first, then the pruned members. */
export interface DemoModel {
  /** `dense`, or the member's directory name in the run (`ziplm-2.00x`). */
  readonly name: string;
  /** Speedup target of a member; null for the dense model. */
  readonly target: number | null;
  /** Speedup the latency table predicted for the member's structure (Node, at build time). */
  readonly predictedSpeedup: number | null;
  /** Speedup measured by re-timing the member against the dense model in Node at build time. */
  readonly measuredSpeedup: number | null;
  /** The run's task metric on its evaluation items (e.g. SST-2 dev accuracy in %). */
  readonly metric: number | null;
  /** Attention heads and FFN neurons kept in each layer. */
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  readonly onnx: DemoAsset;
}

/** The WordPiece settings the page builds its tokenizer with (`WordPieceTokenizerOptions` without the vocabulary). */
export interface DemoTokenizerOptions {
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly handleChineseChars: boolean;
  readonly cleanText: boolean;
  readonly unkToken: string;
  readonly clsToken: string;
  readonly sepToken: string;
  readonly padToken: string;
  readonly maskToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
}

export interface DemoManifest {
  readonly format: 'ziplm-browser-demo';
  readonly version: 1;
  /** The built-in model the members were pruned from. */
  readonly model: string;
  readonly task: string;
  /** Class names in logit order. */
  readonly labels: readonly string[];
  /** Every input is padded to this many tokens: the sequence length the latency table was measured at. */
  readonly sequenceLength: number;
  /** The metric `DemoModel.metric` reports, e.g. "SST-2 dev accuracy (%)", and on how many items. */
  readonly metricLabel: string;
  readonly metricItems: number | null;
  /** The `ziplm prune` command that made the members, as run at build time. */
  readonly pruneCommand: string;
  /** The Node environment the members' targets and measured speedups refer to. */
  readonly nodeEnvironment: string;
  /** The vocabulary, one token per id (a JSON array of strings). */
  readonly vocabulary: DemoAsset;
  readonly tokenizer: DemoTokenizerOptions;
  readonly models: readonly DemoModel[];
}

export const DEMO_MANIFEST_FORMAT = 'ziplm-browser-demo';

/** A manifest that does not have the shape above. */
export class DemoManifestError extends Error {
  override name = 'DemoManifestError';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field<T>(obj: Json, key: string, where: string, ok: (v: unknown) => v is T, what: string): T {
  const v = obj[key];
  if (!ok(v)) throw new DemoManifestError(`${where}.${key} must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isFiniteOrNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));
const isPositiveIntOrNull = (v: unknown): v is number | null => v === null || isPositiveInt(v);
const isCountList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isString);
const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
// A plain file name: the page resolves it next to the manifest, so no folders and no way out of it.
const isFileName = (v: unknown): v is string => typeof v === 'string' && /^[\w.-]+$/.test(v) && !v.startsWith('.');

function parseAsset(v: unknown, where: string): DemoAsset {
  if (!isObject(v)) throw new DemoManifestError(`${where} must be an object`);
  return {
    file: field(v, 'file', where, isFileName, 'a file name (letters, digits, _ . -)'),
    bytes: field(v, 'bytes', where, isPositiveInt, 'a positive integer'),
    sha256: field(v, 'sha256', where, isSha256, '64 lower-case hex digits'),
  };
}

function parseModel(v: unknown, where: string): DemoModel {
  if (!isObject(v)) throw new DemoManifestError(`${where} must be an object`);
  const target = field(v, 'target', where, isFiniteOrNull, 'a number or null');
  const layerHeads = field(v, 'layerHeads', where, isCountList, 'a list of non-negative integers');
  const layerIntermediate = field(v, 'layerIntermediate', where, isCountList, 'a list of non-negative integers');
  if (layerHeads.length !== layerIntermediate.length)
    throw new DemoManifestError(`${where}: layerHeads and layerIntermediate must have one entry per layer`);
  return {
    name: field(v, 'name', where, isString, 'a non-empty string'),
    target,
    predictedSpeedup: field(v, 'predictedSpeedup', where, isFiniteOrNull, 'a number or null'),
    measuredSpeedup: field(v, 'measuredSpeedup', where, isFiniteOrNull, 'a number or null'),
    metric: field(v, 'metric', where, isFiniteOrNull, 'a number or null'),
    layerHeads,
    layerIntermediate,
    onnx: parseAsset(v.onnx, `${where}.onnx`),
  };
}

function parseTokenizerOptions(v: unknown): DemoTokenizerOptions {
  const where = 'manifest.tokenizer';
  if (!isObject(v)) throw new DemoManifestError(`${where} must be an object`);
  const flag = (key: string) => field(v, key, where, isBoolean, 'true or false');
  const token = (key: string) => field(v, key, where, isString, 'a non-empty string');
  return {
    lowercase: flag('lowercase'),
    stripAccents: flag('stripAccents'),
    handleChineseChars: flag('handleChineseChars'),
    cleanText: flag('cleanText'),
    unkToken: token('unkToken'),
    clsToken: token('clsToken'),
    sepToken: token('sepToken'),
    padToken: token('padToken'),
    maskToken: token('maskToken'),
    continuingSubwordPrefix: token('continuingSubwordPrefix'),
    maxInputCharsPerWord: field(v, 'maxInputCharsPerWord', where, isPositiveInt, 'a positive integer'),
  };
}

/**
 * Checks a parsed manifest.json and returns it typed.
 * @throws DemoManifestError naming the first field that is missing or wrong.
 */
export function parseDemoManifest(json: unknown): DemoManifest {
  const where = 'manifest';
  if (!isObject(json)) throw new DemoManifestError('manifest must be a JSON object');
  if (json.format !== DEMO_MANIFEST_FORMAT || json.version !== 1)
    throw new DemoManifestError(`manifest is not a ${DEMO_MANIFEST_FORMAT} version 1 file`);
  const rawModels = json.models;
  if (!Array.isArray(rawModels) || rawModels.length < 2)
    throw new DemoManifestError('manifest.models must list the dense model and at least one member');
  const models = rawModels.map((m, i) => parseModel(m, `manifest.models[${i}]`));
  if (models.some((m) => m.layerHeads.length !== models[0]!.layerHeads.length))
    throw new DemoManifestError('manifest.models must all have the same number of layers');
  if (models[0]!.target !== null || models.slice(1).some((m) => m.target === null))
    throw new DemoManifestError('manifest.models must start with the dense model (target null), then members (a target each)');
  if (new Set(models.map((m) => m.name)).size !== models.length) throw new DemoManifestError('manifest.models must have distinct names');
  return {
    format: DEMO_MANIFEST_FORMAT,
    version: 1,
    model: field(json, 'model', where, isString, 'a non-empty string'),
    task: field(json, 'task', where, isString, 'a non-empty string'),
    labels: field(json, 'labels', where, isStringList, 'a non-empty list of strings'),
    sequenceLength: field(json, 'sequenceLength', where, isPositiveInt, 'a positive integer'),
    metricLabel: field(json, 'metricLabel', where, isString, 'a non-empty string'),
    metricItems: field(json, 'metricItems', where, isPositiveIntOrNull, 'a positive integer or null'),
    pruneCommand: field(json, 'pruneCommand', where, isString, 'a non-empty string'),
    nodeEnvironment: field(json, 'nodeEnvironment', where, isString, 'a non-empty string'),
    vocabulary: parseAsset(json.vocabulary, 'manifest.vocabulary'),
    tokenizer: parseTokenizerOptions(json.tokenizer),
    models,
  };
}
