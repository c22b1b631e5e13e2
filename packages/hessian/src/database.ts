// The level database: every prunable module's snapshots at every level, one file per (layer, module),
// stored compactly (float32 kept columns only, guide/structured-obs.md: a BERT-base FFN layer's 44 levels
// take ~94 MB instead of 415 MB of dense zero-padded copies) and written atomically, so that an
// interrupted build resumes at the first missing module and gives byte-identical files.
//
// Storage is injected (platform neutral): `createMemoryStorage()` here, a directory via
// `createFileStorage()` from `@ziplm/hessian/node`.
//
// File format, versions 1 and 2 (all little-endian):
//   bytes 0..7    magic "ZLMLVDB1"
//   bytes 8..11   u32 J: byte length of the JSON header (padded with spaces so 12 + J ≡ 0 mod 8)
//   bytes 12..    JSON header (UTF-8): see {@link LayerHeader}; byte offsets are relative to the payload
//   payload       per level, in header order: Int32 kept structure indices, then Float32 weights
//                 rows × (kept·groupSize) row-major; then the Float32 bias (optional) and the Int32
//                 removal order. Every block is a multiple of 4 bytes, so every view is aligned.
// Version 2 = version 1 plus `spec.method` (which sweep produced the levels: 'obs' or 'magnitude').
// A spec without a method is written as version 1, byte for byte what earlier releases wrote, so
// their readers keep reading OBS databases; a spec with a method (the builder sets it only for the
// magnitude baseline) is written as version 2, which version-1 readers refuse instead of serving
// magnitude-pruned levels as OBS ones. A version-1 file is an OBS file.

import { DatabaseError, ShapeError } from './errors.js';
import type { LayerErrors } from './levels.js';
import type { DampingReport } from './prepare.js';
import { magnitudeSweep } from './magnitude.js';
import { obsSweep, type ObsProblem, type SweepOptions } from './sweep.js';

/** Where level-database files live. Implementations must make `writeAtomic` all-or-nothing. */
export interface LevelStorage {
  /** Human-readable location (a directory path, a URL, `memory`) used in error messages. */
  readonly location: string;
  /** Names of the complete entries (never temporary files of an unfinished write). */
  list(): Promise<string[]>;
  /** Byte size of an entry, or undefined when it does not exist. */
  size(name: string): Promise<number | undefined>;
  /** Bytes [start, end) of an entry (the whole entry without a range). */
  read(name: string, range?: { start: number; end: number }): Promise<Uint8Array>;
  /** Replaces the entry atomically: readers see the old bytes or the new bytes, never a mix. */
  writeAtomic(name: string, data: Uint8Array): Promise<void>;
}

/** In-memory storage (browser, tests). */
export function createMemoryStorage(): LevelStorage & { entries: Map<string, Uint8Array> } {
  const entries = new Map<string, Uint8Array>();
  return {
    location: 'memory',
    entries,
    list: async () => [...entries.keys()].sort(),
    size: async (name) => entries.get(name)?.byteLength,
    read: async (name, range) => {
      const data = entries.get(name);
      if (!data) throw new DatabaseError(`memory:${name}`, 'no such entry');
      return range ? data.slice(range.start, range.end) : data.slice();
    },
    writeAtomic: async (name, data) => {
      entries.set(name, data.slice());
    },
  };
}

export type ModuleKind = 'attention' | 'ffn';

/**
 * How a module's levels were computed: `obs` = {@link obsSweep} (ZipLM's structured OBS, the
 * default); `magnitude` = {@link magnitudeSweep} (the structure-magnitude baseline, no weight update).
 */
export type SweepMethod = 'obs' | 'magnitude';

/** What the builder promised to compute for a module; a resumed build must ask for the same. */
export interface LayerSpec {
  levels: number[];
  groupSize: number;
  relativeDamping: number;
  /** Caller's identity of the inputs (checkpoint + calibration), e.g. a hash; optional. */
  fingerprint?: string;
  /** The sweep that produced the levels; absent = `obs` (every version-1 file). Present → format version 2. */
  method?: SweepMethod;
}

/** One level of a stored module. */
export interface StoredLevel {
  kept: number;
  keptIndices: Int32Array;
  /** rows × (kept·groupSize), float32. */
  weight: Float32Array;
  obsLoss: number;
  error: number;
}

/** A module's full record (see {@link LevelDatabase.write}). */
export interface LayerRecord {
  layer: number;
  module: ModuleKind;
  rows: number;
  cols: number;
  groupSize: number;
  spec: LayerSpec;
  levels: StoredLevel[];
  bias?: Float32Array;
  order: Int32Array;
  damping: DampingReport;
  dead: number[];
  outputEnergy: number;
}

/** The JSON header of a file: everything but the arrays. */
export interface LayerHeader {
  format: 'ziplm-level-db';
  /** 1, or 2 when `spec.method` is present (see the module comment). */
  version: 1 | 2;
  layer: number;
  module: ModuleKind;
  rows: number;
  cols: number;
  groupSize: number;
  spec: LayerSpec;
  damping: DampingReport;
  dead: number[];
  outputEnergy: number;
  levels: Array<{ kept: number; obsLoss: number; error: number; offset: number }>;
  bias: { offset: number } | null;
  order: { offset: number; length: number };
  payloadBytes: number;
}

const MAGIC = 'ZLMLVDB1';
const PREFIX = 12;

/** File name of a module's entry, e.g. `layer-03-ffn.zlmdb`. */
export function layerFileName(layer: number, module: ModuleKind): string {
  return `layer-${String(layer).padStart(2, '0')}-${module}.zlmdb`;
}

const FILE_PATTERN = /^layer-(\d+)-(attention|ffn)\.zlmdb$/;

/** Payload bytes of one level: kept indices (Int32) + rows × kept·groupSize float32 weights. */
function levelBytes(rows: number, groupSize: number, kept: number): number {
  return 4 * kept + 4 * rows * kept * groupSize;
}

/**
 * Bytes of the level arrays of a module (the file adds a small JSON header, the bias and the order):
 * e.g. 768 rows × the 44 FFN levels of 3072 + 0 → ~93.8 MB.
 */
export function levelPayloadBytes(rows: number, groupSize: number, levels: readonly number[]): number {
  let total = 0;
  for (const kept of new Set(levels)) total += levelBytes(rows, groupSize, kept);
  return total;
}

/** Serialises a record to the file format (see the module comment). */
export function encodeLayerRecord(record: LayerRecord): Uint8Array {
  const { rows, groupSize } = record;
  let offset = 0;
  const levels = record.levels.map((level) => {
    const width = level.kept * groupSize;
    if (level.keptIndices.length !== level.kept || level.weight.length !== rows * width) {
      throw new ShapeError(
        `encodeLayerRecord: level ${level.kept} of layer ${record.layer} ${record.module} holds ${level.keptIndices.length} indices and ${level.weight.length} weights, expected ${level.kept} and ${rows * width}`,
      );
    }
    const entry = { kept: level.kept, obsLoss: level.obsLoss, error: level.error, offset };
    offset += levelBytes(rows, groupSize, level.kept);
    return entry;
  });
  let bias: LayerHeader['bias'] = null;
  if (record.bias) {
    if (record.bias.length !== rows) throw new ShapeError(`encodeLayerRecord: bias has ${record.bias.length} entries, expected ${rows}`);
    bias = { offset };
    offset += 4 * rows;
  }
  const order = { offset, length: record.order.length };
  offset += 4 * record.order.length;
  const header: LayerHeader = {
    format: 'ziplm-level-db',
    version: record.spec.method === undefined ? 1 : 2,
    layer: record.layer,
    module: record.module,
    rows,
    cols: record.cols,
    groupSize,
    spec: record.spec,
    damping: record.damping,
    dead: record.dead,
    outputEnergy: record.outputEnergy,
    levels,
    bias,
    order,
    payloadBytes: offset,
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((PREFIX + json.length) / 8) * 8 - PREFIX;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(PREFIX + json.length + offset);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, json.length, true);
  out.set(json, PREFIX);
  const payload = PREFIX + json.length;
  const writeInt32 = (at: number, values: Int32Array): void => {
    for (let i = 0; i < values.length; i++) view.setInt32(payload + at + 4 * i, values[i]!, true);
  };
  const writeFloat32 = (at: number, values: Float32Array): void => {
    for (let i = 0; i < values.length; i++) view.setFloat32(payload + at + 4 * i, values[i]!, true);
  };
  record.levels.forEach((level, i) => {
    const at = levels[i]!.offset;
    writeInt32(at, level.keptIndices);
    writeFloat32(at + 4 * level.kept, level.weight);
  });
  if (record.bias && bias) writeFloat32(bias.offset, record.bias);
  writeInt32(order.offset, record.order);
  return out;
}

function isInt(v: unknown, min = 0): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/**
 * Parses and validates a header. `fileSize` bounds every offset, so a corrupt header never causes a
 * huge allocation.
 */
function parseHeader(prefix: Uint8Array, fileSize: number, file: string): { header: LayerHeader; payloadStart: number } {
  if (fileSize < PREFIX || prefix.length < PREFIX)
    throw new DatabaseError(file, `truncated: ${fileSize} bytes is shorter than the ${PREFIX}-byte prefix`);
  for (let i = 0; i < 8; i++) {
    if (prefix[i] !== MAGIC.charCodeAt(i)) throw new DatabaseError(file, 'not a ziplm level database file (bad magic)');
  }
  const jsonLength = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, true);
  if (PREFIX + jsonLength > fileSize)
    throw new DatabaseError(file, `truncated: the header claims ${jsonLength} bytes but the file has ${fileSize}`);
  if (prefix.length < PREFIX + jsonLength) throw new DatabaseError(file, 'internal: header bytes not read');
  let header: LayerHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(PREFIX, PREFIX + jsonLength))) as LayerHeader;
  } catch (error) {
    throw new DatabaseError(file, `malformed header JSON (${(error as Error).message})`, { cause: error });
  }
  const bad = (problem: string): never => {
    throw new DatabaseError(file, `invalid header: ${problem}`);
  };
  if (header === null || typeof header !== 'object') bad('not an object');
  if (header.format !== 'ziplm-level-db') bad(`format is ${JSON.stringify(header.format)}`);
  if (header.version !== 1 && header.version !== 2)
    bad(`unsupported version ${JSON.stringify(header.version)} (this reader knows 1 and 2)`);
  if (!isInt(header.layer)) bad('layer');
  if (header.module !== 'attention' && header.module !== 'ffn') bad(`module ${JSON.stringify(header.module)}`);
  if (!isInt(header.rows, 1) || !isInt(header.cols, 1) || !isInt(header.groupSize, 1) || header.cols % header.groupSize !== 0)
    bad('rows/cols/groupSize');
  if (!Array.isArray(header.levels)) bad('levels');
  const payloadStart = PREFIX + jsonLength;
  if (!isInt(header.payloadBytes) || payloadStart + header.payloadBytes !== fileSize) {
    throw new DatabaseError(
      file,
      `truncated or padded: header promises ${payloadStart}+${header.payloadBytes} bytes, file has ${fileSize}`,
    );
  }
  const count = header.cols / header.groupSize;
  const inPayload = (offset: unknown, bytes: number): boolean => isInt(offset) && offset + bytes <= header.payloadBytes;
  for (const level of header.levels as unknown[]) {
    if (level === null || typeof level !== 'object' || Array.isArray(level)) bad(`level ${JSON.stringify(level)} is not an object`);
  }
  for (const level of header.levels) {
    if (!isInt(level.kept) || level.kept > count) bad(`level kept ${JSON.stringify(level.kept)}`);
    if (typeof level.error !== 'number' || typeof level.obsLoss !== 'number') bad(`level ${level.kept} error/obsLoss`);
    if (!inPayload(level.offset, levelBytes(header.rows, header.groupSize, level.kept)))
      bad(`level ${level.kept} lies outside the payload`);
  }
  if (header.bias !== null && !inPayload(header.bias?.offset, 4 * header.rows)) bad('bias lies outside the payload');
  if (!header.order || !isInt(header.order.length) || !inPayload(header.order.offset, 4 * header.order.length)) bad('order');
  if (!Array.isArray(header.dead) || !header.spec || !Array.isArray(header.spec.levels)) bad('dead/spec');
  // Version 1 predates `spec.method` (its files are OBS); version 2 must name a known method.
  const method: unknown = header.spec.method;
  if (header.version === 1 && method !== undefined) bad(`spec.method ${JSON.stringify(method)} needs format version 2`);
  if (header.version === 2 && method !== 'obs' && method !== 'magnitude')
    bad(`spec.method ${JSON.stringify(method)} (expected "obs" or "magnitude")`);
  return { header, payloadStart };
}

function readInt32(bytes: Uint8Array, at: number, length: number): Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * length);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getInt32(4 * i, true);
  return out;
}

function readFloat32(bytes: Uint8Array, at: number, length: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 4 * length);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Parses a whole file (see {@link encodeLayerRecord}); `file` names it in errors. */
export function decodeLayerRecord(bytes: Uint8Array, file: string): LayerRecord {
  const { header, payloadStart } = parseHeader(bytes, bytes.byteLength, file);
  const payload = bytes.subarray(payloadStart);
  const { rows, groupSize } = header;
  const levels = header.levels.map((level) => ({
    kept: level.kept,
    keptIndices: readInt32(payload, level.offset, level.kept),
    weight: readFloat32(payload, level.offset + 4 * level.kept, rows * level.kept * groupSize),
    obsLoss: level.obsLoss,
    error: level.error,
  }));
  const count = header.cols / groupSize;
  for (const level of levels) {
    for (let i = 0; i < level.kept; i++) {
      const v = level.keptIndices[i]!;
      if (v < 0 || v >= count || (i > 0 && v <= level.keptIndices[i - 1]!)) {
        throw new DatabaseError(file, `level ${level.kept}: kept indices must be ascending in [0, ${count}), found ${v}`);
      }
    }
  }
  return {
    layer: header.layer,
    module: header.module,
    rows,
    cols: header.cols,
    groupSize,
    spec: header.spec,
    levels,
    ...(header.bias ? { bias: readFloat32(payload, header.bias.offset, rows) } : {}),
    order: readInt32(payload, header.order.offset, header.order.length),
    damping: header.damping,
    dead: header.dead,
    outputEnergy: header.outputEnergy,
  };
}

function sameSpec(a: LayerSpec, b: LayerSpec): boolean {
  return (
    a.groupSize === b.groupSize &&
    a.relativeDamping === b.relativeDamping &&
    (a.fingerprint ?? null) === (b.fingerprint ?? null) &&
    (a.method ?? 'obs') === (b.method ?? 'obs') &&
    a.levels.length === b.levels.length &&
    a.levels.every((v, i) => v === b.levels[i])
  );
}

/** A module to build: its spec and a loader that is only called when the module is missing. */
export interface LayerJob {
  layer: number;
  module: ModuleKind;
  /** Kept structure counts (e.g. `ffnLevels(3072)`); stored in descending order. */
  levels: number[];
  /** Columns per structure (head_dim for attention, 1 for the FFN). */
  groupSize: number;
  /** Identity of the inputs; a resumed build with a different fingerprint is refused. */
  fingerprint?: string;
  /**
   * `obs` (default): ZipLM's structured OBS sweep. `magnitude`: the structure-magnitude baseline
   * ({@link magnitudeSweep}). Part of the spec, so a resumed build never mixes the two.
   */
  method?: SweepMethod;
  /** Produces the layer's weights and calibration statistics. */
  load(): Promise<ObsProblem>;
}

/**
 * Options of {@link LevelDatabase.build}: sweep options shared by all modules, plus a progress hook.
 * `overwriteHessian` defaults to true here: each loaded H is inverted in place. Magnitude jobs use
 * `relativeDamping` (for obsLoss), `engine` and `onProgress`, and never modify H.
 */
export type BuildOptions = Omit<SweepOptions, 'levels' | 'groupSize' | 'snapshotPrecision'> & {
  onModule?: (event: { layer: number; module: ModuleKind; status: 'built' | 'skipped'; seconds: number }) => void;
};

/**
 * A model's level database over an injected {@link LevelStorage}.
 *
 * ```ts
 * const db = new LevelDatabase(createMemoryStorage());         // or openLevelDatabase(dir) in Node
 * await db.build([{ layer: 0, module: 'ffn', groupSize: 1, levels: ffnLevels(3072), load }], { engine });
 * const errors = await db.toLayerErrors();                      // input of the search
 * ```
 */
export class LevelDatabase {
  constructor(readonly storage: LevelStorage) {}

  private where(name: string): string {
    return `${this.storage.location}/${name}`;
  }

  /** Whether the module's file exists (complete files only: writes are atomic). */
  async has(layer: number, module: ModuleKind): Promise<boolean> {
    return (await this.storage.size(layerFileName(layer, module))) !== undefined;
  }

  /** The module's header (levels with errors and losses, spec, damping) without reading the weights. */
  async readHeader(layer: number, module: ModuleKind): Promise<LayerHeader> {
    const name = layerFileName(layer, module);
    const file = this.where(name);
    const size = await this.storage.size(name);
    if (size === undefined) throw new DatabaseError(file, 'missing');
    const prefix = await this.storage.read(name, { start: 0, end: Math.min(size, PREFIX) });
    if (prefix.length < PREFIX) throw new DatabaseError(file, `truncated: ${size} bytes is shorter than the ${PREFIX}-byte prefix`);
    const jsonLength = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, true);
    if (PREFIX + jsonLength > size)
      throw new DatabaseError(file, `truncated: the header claims ${jsonLength} bytes but the file has ${size}`);
    const head = await this.storage.read(name, { start: 0, end: PREFIX + jsonLength });
    return parseHeader(head, size, file).header;
  }

  /** The whole record of a module. */
  async read(layer: number, module: ModuleKind): Promise<LayerRecord> {
    const name = layerFileName(layer, module);
    if ((await this.storage.size(name)) === undefined) throw new DatabaseError(this.where(name), 'missing');
    return decodeLayerRecord(await this.storage.read(name), this.where(name));
  }

  /** One level of a module (reads only that level's bytes). */
  async readLevel(layer: number, module: ModuleKind, kept: number): Promise<StoredLevel> {
    const header = await this.readHeader(layer, module);
    const name = layerFileName(layer, module);
    const level = header.levels.find((l) => l.kept === kept);
    if (!level)
      throw new DatabaseError(
        this.where(name),
        `has no level with ${kept} kept structures (has ${header.levels.map((l) => l.kept).join(', ')})`,
      );
    const size = (await this.storage.size(name))!;
    const payloadStart = size - header.payloadBytes;
    const bytes = await this.storage.read(name, {
      start: payloadStart + level.offset,
      end: payloadStart + level.offset + levelBytes(header.rows, header.groupSize, kept),
    });
    return {
      kept,
      keptIndices: readInt32(bytes, 0, kept),
      weight: readFloat32(bytes, 4 * kept, header.rows * kept * header.groupSize),
      obsLoss: level.obsLoss,
      error: level.error,
    };
  }

  /** Writes a module's record atomically (replacing any previous one). */
  async write(record: LayerRecord): Promise<void> {
    await this.storage.writeAtomic(layerFileName(record.layer, record.module), encodeLayerRecord(record));
  }

  /** Headers of every module in the database, by layer then module. */
  async list(): Promise<LayerHeader[]> {
    const names = (await this.storage.list()).filter((n) => FILE_PATTERN.test(n));
    const headers: LayerHeader[] = [];
    for (const name of names) {
      const [, layer, module] = FILE_PATTERN.exec(name)!;
      headers.push(await this.readHeader(Number(layer), module as ModuleKind));
    }
    return headers.sort((a, b) => a.layer - b.layer || a.module.localeCompare(b.module));
  }

  /**
   * What the search consumes: per module, its relative output error at each stored kept size, kept
   * descending, always ending with kept 0 (module removed, error 1 by definition).
   */
  async toLayerErrors(): Promise<LayerErrors[]> {
    return (await this.list()).map((header) => {
      const levels = header.levels.map((l) => ({ kept: l.kept, error: l.kept === 0 ? 1 : l.error })).sort((a, b) => b.kept - a.kept);
      if (levels[levels.length - 1]?.kept !== 0) levels.push({ kept: 0, error: 1 });
      return { layer: header.layer, module: header.module, levels };
    });
  }

  /**
   * Builds every missing module, one at a time, each written atomically as soon as it is done. A
   * module already present is skipped when its spec matches the job (same levels, group size,
   * damping and fingerprint); otherwise the build stops with a {@link DatabaseError} rather than mix
   * results of different runs. Each module's result depends only on its inputs and the engine, so an
   * interrupted build that is resumed produces the same bytes as an uninterrupted one.
   */
  async build(jobs: readonly LayerJob[], options: BuildOptions = {}): Promise<{ built: number; skipped: number }> {
    let built = 0;
    let skipped = 0;
    const { onModule, ...sweepOptions } = options;
    for (const job of jobs) {
      const started = performance.now();
      const method = job.method ?? 'obs';
      if (method !== 'obs' && method !== 'magnitude') {
        throw new DatabaseError(
          this.where(layerFileName(job.layer, job.module)),
          `unknown method ${JSON.stringify(method)} (expected "obs" or "magnitude")`,
        );
      }
      const levels = [...new Set(job.levels)].sort((a, b) => b - a);
      const spec: LayerSpec = {
        levels,
        groupSize: job.groupSize,
        relativeDamping: sweepOptions.relativeDamping ?? 0.01,
        ...(job.fingerprint !== undefined ? { fingerprint: job.fingerprint } : {}),
        // Only the baseline records its method: OBS files stay version 1 (see the module comment).
        ...(method !== 'obs' ? { method } : {}),
      };
      if (await this.has(job.layer, job.module)) {
        const header = await this.readHeader(job.layer, job.module);
        if (!sameSpec(header.spec, spec)) {
          throw new DatabaseError(
            this.where(layerFileName(job.layer, job.module)),
            `was built with a different spec (${JSON.stringify(header.spec)}) than requested (${JSON.stringify(spec)}); remove it or use another database directory`,
          );
        }
        skipped++;
        onModule?.({ layer: job.layer, module: job.module, status: 'skipped', seconds: (performance.now() - started) / 1000 });
        continue;
      }
      const problem = await job.load();
      // The loaded H is ours: let the solver invert it in place (one n×n array less at peak).
      const result =
        method === 'magnitude'
          ? await magnitudeSweep(problem, {
              levels,
              groupSize: job.groupSize,
              snapshotPrecision: 'float32',
              relativeDamping: sweepOptions.relativeDamping,
              engine: sweepOptions.engine,
              onProgress: sweepOptions.onProgress,
            })
          : await obsSweep(problem, {
              overwriteHessian: true,
              ...sweepOptions,
              levels,
              groupSize: job.groupSize,
              snapshotPrecision: 'float32',
            });
      await this.write({
        layer: job.layer,
        module: job.module,
        rows: result.rows,
        cols: result.cols,
        groupSize: result.groupSize,
        spec,
        levels: result.snapshots.map((s) => ({ ...s, weight: s.weight as Float32Array })),
        ...(problem.bias ? { bias: Float32Array.from(problem.bias) } : {}),
        order: result.order,
        damping: result.damping,
        dead: Array.from(result.dead),
        outputEnergy: result.outputEnergy,
      });
      built++;
      onModule?.({ layer: job.layer, module: job.module, status: 'built', seconds: (performance.now() - started) / 1000 });
    }
    return { built, skipped };
  }
}
