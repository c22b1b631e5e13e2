// Fuzzing helpers: seeded fast-check runs over every file format ziplm reads (issue 12, "Build it
// like the trusted tools do"). Every generated file must end in a typed ziplm error (an `Error` whose
// `code` starts with `ERR_ZIPLM_`) or a valid result: any other exception, a case that outlives its
// time limit, or a heap that keeps growing fails the run. Inputs are mutations of small valid seeds,
// so most cases get past the first checks of a reader and reach the deeper ones.
//
// A case that once failed is kept as a file of the package's regression corpus
// (`test/fuzz/corpus/<format>/<name>.<ext>`), replayed by the package's corpus test on every run.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import fc from 'fast-check';

/** Environment variables of a fuzz run. */
export const FUZZ_SEED_ENV = 'ZIPLM_FUZZ_SEED';
export const FUZZ_RUNS_ENV = 'ZIPLM_FUZZ_RUNS';
/** When set to 1, a failing case found by a run is written into the corpus (as `found-<hash>.<ext>`). */
export const FUZZ_SAVE_ENV = 'ZIPLM_FUZZ_SAVE_CORPUS';

/** The fixed default seed: CI runs are reproducible; set ZIPLM_FUZZ_SEED to explore other inputs. */
const DEFAULT_SEED = 1212;
/** The issue asks for at least 1,000 generated cases per format per CI run. */
const DEFAULT_RUNS = 1000;

export interface FuzzSettings {
  readonly seed: number;
  readonly numRuns: number;
}

function integerEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Seed and case count of this run (ZIPLM_FUZZ_SEED, ZIPLM_FUZZ_RUNS). */
export function fuzzSettings(): FuzzSettings {
  return { seed: integerEnv(FUZZ_SEED_ENV, DEFAULT_SEED, -(2 ** 31)), numRuns: integerEnv(FUZZ_RUNS_ENV, DEFAULT_RUNS, 1) };
}

/** An error ziplm throws on purpose: an `Error` with a stable `ERR_ZIPLM_*` code. */
export function isTypedZiplmError(error: unknown): error is Error & { readonly code: string } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_ZIPLM_');
}

/** How a reader ended on one input: a valid result, or a typed error with its code. */
export type TypedOutcome = { readonly kind: 'valid' } | { readonly kind: 'error'; readonly code: string };

/** A case did not end in a typed error or a valid result: the original exception is the cause. */
export class UntypedOutcomeError extends Error {
  override name = 'UntypedOutcomeError';
}

/** A case outlived its time limit (an asynchronous hang; a synchronous endless loop blocks the test itself). */
export class CaseTimeoutError extends Error {
  override name = 'CaseTimeoutError';
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  }
  return `a non-Error value ${String(error)}`;
}

/**
 * Runs `run` and says how it ended: `{ kind: 'valid' }` or `{ kind: 'error', code }` for a typed ziplm
 * error. Throws UntypedOutcomeError (with the original exception as `cause`) for anything else,
 * including a case that takes longer than `timeoutMs`.
 */
export async function expectTypedOutcome(run: () => unknown, options: { timeoutMs?: number } = {}): Promise<TypedOutcome> {
  const timeoutMs = options.timeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CaseTimeoutError(`the case took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(run), timeout]);
    return { kind: 'valid' };
  } catch (error) {
    if (isTypedZiplmError(error)) return { kind: 'error', code: error.code };
    throw new UntypedOutcomeError(`ended in ${describeThrown(error)} instead of a typed ziplm error or a valid result`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Mutators: fast-check arbitraries of inputs derived from a valid seed
// ---------------------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A little-endian unsigned length field of a binary format (e.g. safetensors' u64 header length at 0). */
export interface LengthField {
  readonly offset: number;
  readonly bytes: 4 | 8;
}

type ByteEdit =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'remove'; readonly at: number; readonly length: number }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number }
  | { readonly kind: 'field'; readonly field: number; readonly value: bigint };

function applyByteEdit(input: Uint8Array, edit: ByteEdit, fields: readonly LengthField[]): Uint8Array {
  const at = input.length === 0 ? 0 : edit.kind === 'field' ? 0 : edit.at % (input.length + 1);
  switch (edit.kind) {
    case 'flip': {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at % input.length]! ^= 1 << edit.bit;
      return out;
    }
    case 'set': {
      if (input.length === 0) return input;
      const out = input.slice();
      out[at % input.length] = edit.value;
      return out;
    }
    case 'truncate':
      return input.slice(0, at);
    case 'insert': {
      const out = new Uint8Array(input.length + edit.bytes.length);
      out.set(input.subarray(0, at));
      out.set(edit.bytes, at);
      out.set(input.subarray(at), at + edit.bytes.length);
      return out;
    }
    case 'remove': {
      const out = new Uint8Array(input.length - Math.min(edit.length, input.length - at));
      out.set(input.subarray(0, at));
      out.set(input.subarray(at + edit.length), at);
      return out;
    }
    case 'duplicate': {
      const piece = input.subarray(at, at + edit.length);
      return applyByteEdit(input, { kind: 'insert', at, bytes: piece.slice() }, fields);
    }
    case 'field': {
      const field = fields[edit.field % fields.length];
      if (!field || field.offset + field.bytes > input.length) return input;
      const out = input.slice();
      const view = new DataView(out.buffer);
      if (field.bytes === 8) view.setBigUint64(field.offset, BigInt.asUintN(64, edit.value), true);
      else view.setUint32(field.offset, Number(BigInt.asUintN(32, edit.value)), true);
      return out;
    }
  }
}

/** Values a length field is set to: the edges of its range, and near the file's real size. */
function lengthValues(seedLength: number): fc.Arbitrary<bigint> {
  return fc.oneof(
    fc.constantFrom(0n, 1n, 7n, 8n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 60n, 2n ** 63n, 2n ** 64n - 1n),
    fc.integer({ min: -64, max: 64 }).map((d) => BigInt(Math.max(0, seedLength + d))),
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  );
}

/**
 * Byte-level mutations of `seed`: 1 to `maxEdits` bit flips, byte sets, truncations, insertions,
 * removals, duplications and (when `lengthFields` are given) length fields set to edge values.
 */
export function mutatedBytes(
  seed: Uint8Array,
  options: { maxEdits?: number; lengthFields?: readonly LengthField[] } = {},
): fc.Arbitrary<Uint8Array> {
  const fields = options.lengthFields ?? [];
  const at = fc.nat({ max: Math.max(seed.length * 2, 16) });
  const edits: Array<fc.Arbitrary<ByteEdit>> = [
    fc.record({ kind: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at, value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x22, 0x5c, 0x7b, 0x7d, 0x0a, 0x0d) }),
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({ kind: fc.constant('insert' as const), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('remove' as const), at, length: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at, length: fc.integer({ min: 1, max: 64 }) }),
  ];
  if (fields.length > 0) {
    edits.push(
      fc.record({ kind: fc.constant('field' as const), field: fc.nat({ max: fields.length - 1 }), value: lengthValues(seed.length) }),
    );
  }
  return fc
    .array(fc.oneof(...edits), { minLength: 1, maxLength: options.maxEdits ?? 4 })
    .map((list) => list.reduce((bytes, edit) => applyByteEdit(bytes, edit, fields), seed));
}

/** A JSON value as a mutator sees it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Paths deeper than this are not edited (deeply nested values are themselves one of the mutations). */
const MAX_EDIT_DEPTH = 32;

/** Every path (object keys, array indices) of a JSON value down to MAX_EDIT_DEPTH, the root included. */
function jsonPaths(value: Json, prefix: ReadonlyArray<string | number> = [], out: Array<ReadonlyArray<string | number>> = []) {
  out.push(prefix);
  if (prefix.length >= MAX_EDIT_DEPTH) return out;
  const children: Array<[string | number, Json]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : value !== null && typeof value === 'object'
      ? Object.entries(value)
      : [];
  for (const [key, item] of children) jsonPaths(item, [...prefix, key], out);
  return out;
}

function nested(depth: number, leaf: Json, asArray: boolean): Json {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
  return value;
}

/**
 * Values that break careless readers: huge, negative, fractional and non-finite-looking numbers, the
 * wrong types, strings that look like numbers, deep nesting and arbitrary JSON.
 */
export function hostileJsonValue(): fc.Arbitrary<Json> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom<Json>(
        0,
        -1,
        1,
        0.5,
        -0.5,
        1e9,
        2 ** 31,
        2 ** 32,
        2 ** 53,
        2 ** 53 + 2,
        -(2 ** 53),
        1e300,
        -1e300,
        5e-324,
        1e-300,
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom<Json>(null, true, false, '', 'NaN', 'Infinity', '-Infinity', '1e9', '0x10', '12', [], {}, [null], ['a']),
    },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => v as Json) },
    {
      weight: 1,
      arbitrary: fc
        .record({ depth: fc.integer({ min: 8, max: 1000 }), asArray: fc.boolean() })
        .map(({ depth, asArray }) => nested(depth, 1, asArray)),
    },
  );
}

type JsonEdit =
  | { readonly kind: 'replace'; readonly path: number; readonly value: Json }
  | { readonly kind: 'scale'; readonly path: number; readonly factor: number }
  | { readonly kind: 'delete'; readonly path: number }
  | { readonly kind: 'add'; readonly path: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'wrap'; readonly path: number; readonly asArray: boolean };

function clone(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function applyJsonEdit(root: Json, edit: JsonEdit): Json {
  const paths = jsonPaths(root);
  const path = paths[edit.path % paths.length]!;
  const get = (p: ReadonlyArray<string | number>): Json => p.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k]!, root);
  const current = get(path);
  let replacement: Json | undefined;
  switch (edit.kind) {
    case 'replace':
      replacement = edit.value;
      break;
    case 'scale':
      replacement = typeof current === 'number' ? current * edit.factor : Array.isArray(current) ? [...current, ...current] : current;
      break;
    case 'delete':
      replacement = undefined;
      break;
    case 'add':
      if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
        // defineProperty, so that "__proto__" becomes an own key as JSON.parse would make it.
        Object.defineProperty(current, edit.key, { value: edit.value, enumerable: true, writable: true, configurable: true });
      } else if (Array.isArray(current)) current.push(edit.value);
      return root;
    case 'wrap':
      replacement = edit.asArray ? [current] : { value: current };
      break;
  }
  if (path.length === 0) return replacement === undefined ? {} : replacement;
  const parent = get(path.slice(0, -1)) as Record<string | number, Json> | Json[];
  const key = path[path.length - 1]!;
  if (replacement === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete (parent as Record<string, Json>)[key];
  } else (parent as Record<string | number, Json>)[key] = replacement;
  return root;
}

/** Structural mutations of a JSON document: values replaced by hostile ones, scaled, deleted, added, wrapped. */
export function mutatedJson(seed: unknown, options: { maxEdits?: number } = {}): fc.Arbitrary<unknown> {
  const base = clone(seed as Json);
  const path = fc.nat({ max: 100_000 });
  const edit: fc.Arbitrary<JsonEdit> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('replace' as const), path, value: hostileJsonValue() }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('scale' as const), path, factor: fc.constantFrom(-1, 0, 2, 1000, 1e6, 1e12, 0.5) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), path }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        path,
        key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '', 'toString'), fc.string({ maxLength: 8 })),
        value: hostileJsonValue(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrap' as const), path, asArray: fc.boolean() }) },
  );
  return fc.array(edit, { minLength: 1, maxLength: options.maxEdits ?? 3 }).map((edits) => edits.reduce<Json>(applyJsonEdit, clone(base)));
}

/**
 * A JSON file derived from `seed`: mostly structural mutations (serialized compactly or indented),
 * sometimes byte-level damage to the serialized text (truncation, invalid UTF-8, broken syntax).
 */
export function mutatedJsonBytes(seed: unknown): fc.Arbitrary<Uint8Array> {
  const text = JSON.stringify(seed, null, 2);
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(mutatedJson(seed), fc.boolean())
        .map(([v, pretty]) => utf8(JSON.stringify(v, null, pretty ? 2 : undefined) ?? '')),
    },
    { weight: 2, arbitrary: mutatedBytes(utf8(text)) },
    { weight: 1, arbitrary: mutatedText(text) },
  );
}

type TextEdit =
  | { readonly kind: 'crlf' }
  | { readonly kind: 'cr' }
  | { readonly kind: 'bom' }
  | { readonly kind: 'deleteLine'; readonly line: number }
  | { readonly kind: 'duplicateLine'; readonly line: number; readonly times: number }
  | { readonly kind: 'insertLine'; readonly line: number; readonly text: string }
  | { readonly kind: 'editLine'; readonly line: number; readonly at: number; readonly text: string }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'whole'; readonly text: string };

function applyTextEdit(text: string, edit: TextEdit): string {
  const lines = text.split('\n');
  const line = (n: number) => n % Math.max(lines.length, 1);
  switch (edit.kind) {
    case 'crlf':
      return text.replace(/\r?\n/g, '\r\n');
    case 'cr':
      return text.replace(/\r?\n/g, '\r');
    case 'bom':
      return `\ufeff${text}`;
    case 'deleteLine':
      lines.splice(line(edit.line), 1);
      return lines.join('\n');
    case 'duplicateLine': {
      const i = line(edit.line);
      lines.splice(i, 0, ...new Array<string>(edit.times).fill(lines[i] ?? ''));
      return lines.join('\n');
    }
    case 'insertLine':
      lines.splice(line(edit.line), 0, edit.text);
      return lines.join('\n');
    case 'editLine': {
      const i = line(edit.line);
      const old = lines[i] ?? '';
      const at = edit.at % (old.length + 1);
      lines[i] = old.slice(0, at) + edit.text + old.slice(at + edit.text.length);
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, edit.at % (text.length + 1));
    case 'whole':
      return edit.text;
  }
}

/** Text pieces that matter to line- and token-oriented readers. */
function hostileText(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '\t',
        '\t\t',
        '\r',
        '\0',
        ' = Title = ',
        ' = = Section = = ',
        '[CLS]',
        '[SEP]',
        '[UNK]',
        '##',
        'Ġ',
        '"',
        '\ud800',
        '\u2028',
        '\u00e9\u0301',
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ ch: fc.constantFrom('a', ' ', '\t', 'é', '=', '😀'), n: fc.integer({ min: 1000, max: 50_000 }) })
        .map(({ ch, n }) => ch.repeat(n)),
    },
  );
}

/** Line-level mutations of a text file: CRLF/CR endings, a BOM, lines deleted, duplicated, inserted or edited, truncation. */
export function mutatedText(seed: string, options: { maxEdits?: number } = {}): fc.Arbitrary<Uint8Array> {
  const n = fc.nat({ max: 100_000 });
  const edit: fc.Arbitrary<TextEdit> = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'crlf' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'cr' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('deleteLine' as const), line: n }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicateLine' as const), line: n, times: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insertLine' as const), line: n, text: hostileText() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('editLine' as const), line: n, at: n, text: hostileText() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: n }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), text: fc.constantFrom('', '\n', ' ', '\r\n', '\ufeff') }) },
  );
  const textual = fc
    .array(edit, { minLength: 1, maxLength: options.maxEdits ?? 4 })
    .map((edits) => utf8(edits.reduce(applyTextEdit, seed)));
  return fc.oneof({ weight: 5, arbitrary: textual }, { weight: 1, arbitrary: mutatedBytes(utf8(seed)) });
}

// ---------------------------------------------------------------------------------------------
// Running a format and the regression corpus
// ---------------------------------------------------------------------------------------------

/**
 * A bug that is known and being fixed: cases it explains are counted and printed, not failed, so the
 * suite stays green until the fix lands. Each one has a corpus case (replayed with `it.fails`); remove
 * the entry together with the `it.fails` mark when the fix is in.
 */
export interface KnownFailure {
  /** The corpus case that reproduces it (`<format>/<name>.<ext>`). */
  readonly corpusCase: string;
  /** Inputs the bug cannot be survived on (e.g. it exhausts the heap): skipped before the reader runs. */
  readonly skipsInput?: (input: Uint8Array) => boolean;
  /** Untyped exceptions the bug explains (the thrown value, not the wrapper). */
  readonly explains?: (thrown: unknown) => boolean;
}

export interface FuzzFormatOptions {
  /** `<package>/<format>`, printed with the case count. */
  readonly name: string;
  /** The corpus directory of this format: `<package>/test/fuzz/corpus/<format>`. */
  readonly corpusDir: string;
  /** Extension of its corpus files. */
  readonly extension: 'bin' | 'json' | 'txt';
  readonly inputs: fc.Arbitrary<Uint8Array>;
  /** Reads one input the way ziplm reads the file (writes it where the reader expects it, then reads). */
  readonly target: (input: Uint8Array) => unknown;
  readonly knownFailures?: readonly KnownFailure[];
  /** Per-case time limit (default 2 s). */
  readonly timeoutMs?: number;
  /** The most the heap may grow over the whole run (default 256 MiB). */
  readonly heapGrowthLimit?: number;
}

export interface FuzzReport {
  readonly name: string;
  readonly seed: number;
  /** Cases run (generated, minus those a known failure skipped). */
  readonly cases: number;
  readonly valid: number;
  /** Typed errors by code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Cases a known failure skipped or explained. */
  readonly known: number;
  readonly milliseconds: number;
  /** Largest heap growth seen after a case, in bytes. */
  readonly heapGrowth: number;
}

const MIB = 1024 * 1024;

function explainedBy(knownFailures: readonly KnownFailure[], error: unknown): KnownFailure | undefined {
  const thrown = error instanceof UntypedOutcomeError ? error.cause : error;
  return knownFailures.find((k) => k.explains?.(thrown));
}

/**
 * Runs `numRuns` generated cases (fuzzSettings) through `target`. Fails, naming the shrunk input, on a
 * case that ends in anything but a typed error or a valid result, outlives its time limit, or makes
 * the heap grow past the limit; with ZIPLM_FUZZ_SAVE_CORPUS=1 the failing input is also written into
 * the corpus. Prints the case count and how the cases ended, so CI logs show it.
 */
export async function fuzzFormat(options: FuzzFormatOptions): Promise<FuzzReport> {
  const { seed, numRuns } = fuzzSettings();
  const knownFailures = options.knownFailures ?? [];
  const heapLimit = options.heapGrowthLimit ?? 256 * MIB;
  const heapBefore = process.memoryUsage().heapUsed;
  let cases = 0;
  let valid = 0;
  let known = 0;
  let heapGrowth = 0;
  const errors: Record<string, number> = {};
  const started = performance.now();
  const property = fc.asyncProperty(options.inputs, async (input) => {
    if (knownFailures.some((k) => k.skipsInput?.(input))) {
      known++;
      return;
    }
    cases++;
    try {
      const outcome = await expectTypedOutcome(() => options.target(input), { timeoutMs: options.timeoutMs });
      if (outcome.kind === 'valid') valid++;
      else errors[outcome.code] = (errors[outcome.code] ?? 0) + 1;
    } catch (error) {
      if (!explainedBy(knownFailures, error)) throw error;
      known++;
    }
    heapGrowth = Math.max(heapGrowth, process.memoryUsage().heapUsed - heapBefore);
    if (heapGrowth > heapLimit)
      throw new Error(`the heap grew by ${Math.round(heapGrowth / MIB)} MiB, more than the ${heapLimit / MIB} MiB limit`);
  });
  const result = await fc.check(property, { seed, numRuns });
  const report: FuzzReport = {
    name: options.name,
    seed,
    cases,
    valid,
    errors,
    known,
    milliseconds: performance.now() - started,
    heapGrowth,
  };
  if (result.failed) {
    const input = result.counterexample?.[0];
    let saved = '';
    if (input instanceof Uint8Array) {
      if (process.env[FUZZ_SAVE_ENV] === '1') {
        mkdirSync(options.corpusDir, { recursive: true });
        const file = join(options.corpusDir, `found-${createHash('sha256').update(input).digest('hex').slice(0, 10)}.${options.extension}`);
        writeFileSync(file, input);
        saved = `\nsaved as ${file}`;
      }
      saved += `\ninput (${input.length} bytes, base64): ${Buffer.from(input).subarray(0, 4096).toString('base64')}`;
    }
    const failure = result.errorInstance instanceof Error ? result.errorInstance : new Error(String(result.errorInstance));
    throw new Error(`fuzz ${options.name}: ${failure.message}${saved}\n${fc.defaultReportMessage(result)}`, { cause: failure });
  }
  console.log(formatReport(report));
  return report;
}

/** One line per run: the case count and how the cases ended. */
export function formatReport(report: FuzzReport): string {
  const codes = Object.entries(report.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
  return (
    `fuzz ${report.name}: ${report.cases} cases (seed ${report.seed}) in ${(report.milliseconds / 1000).toFixed(1)} s: ` +
    `${report.valid} valid, typed errors {${codes}}` +
    `${report.known > 0 ? `, ${report.known} known failing` : ''}; heap +${Math.round(report.heapGrowth / MIB)} MiB`
  );
}

/** One file of a regression corpus. */
export interface CorpusCase {
  /** The format (the corpus subdirectory). */
  readonly format: string;
  /** `<format>/<file name>`. */
  readonly id: string;
  readonly file: string;
}

/** Every case of a package's corpus (`corpusRoot/<format>/<file>`), sorted. */
export function corpusCases(corpusRoot: string): CorpusCase[] {
  if (!existsSync(corpusRoot)) return [];
  const out: CorpusCase[] = [];
  for (const format of readdirSync(corpusRoot, { withFileTypes: true })) {
    if (!format.isDirectory()) continue;
    for (const entry of readdirSync(join(corpusRoot, format.name), { withFileTypes: true })) {
      if (!entry.isFile() || !['.bin', '.json', '.txt'].includes(extname(entry.name))) continue;
      out.push({ format: format.name, id: `${format.name}/${entry.name}`, file: join(corpusRoot, format.name, entry.name) });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
