// safetensors reader and writer (https://github.com/huggingface/safetensors, format section).
//
// Layout: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON
//   { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ..., "__metadata__": {..} }
// then the data section; offsets are relative to its start (byte 8 + N).
//
// Reading never trusts the header: the header length is checked against the file size before the
// header is read, and every tensor's offsets are checked (in range, non-overlapping, exactly
// shape × dtype bytes) before any data is read. The only large allocation is the data section,
// whose size is the file's real size. The file is read once; F32 tensors are zero-copy views into
// that one buffer and F16/BF16/F64 tensors are converted one by one, so a checkpoint never costs
// more than two copies of its weights in memory.

import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { writeFileAtomicWith } from '@ziplm/core/node';
import { WeightsError } from '../errors.js';
import type { Tensor32, WeightMap } from '../weights.js';

/** Every dtype of the safetensors format. Only the floating-point ones can be loaded as weights. */
export type SafetensorsDtype =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'F8_E5M2'
  | 'F8_E4M3'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** Bytes per element of each dtype. */
export const SAFETENSORS_DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** dtypes that `readSafetensors` converts to float32 weights. */
export const FLOAT_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** dtypes `writeSafetensors` can store float32 weights as. */
export type SafetensorsWriteDtype = 'F32' | 'F16' | 'BF16';

/** One tensor described by a safetensors header. Offsets are relative to the data section. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Entries in header order. */
  readonly entries: readonly SafetensorsEntry[];
  /** The free-form string map stored under `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte offset of the data section in the file (8 + header length). */
  readonly dataStart: number;
  /** Bytes from the data section's start to the end of the file. */
  readonly dataLength: number;
}

/** What `readSafetensors` / `decodeSafetensors` return. */
export interface SafetensorsContents {
  /** The selected tensors as float32, in header order. */
  readonly tensors: WeightMap;
  readonly metadata: Readonly<Record<string, string>>;
  readonly header: SafetensorsHeader;
}

export interface ReadSafetensorsOptions {
  /** Which entries to load (default: all). Unselected entries are validated but never converted. */
  select?: (entry: SafetensorsEntry) => boolean;
}

export interface WriteSafetensorsOptions {
  /** Stored under `__metadata__`. Hugging Face transformers expects `{ format: 'pt' }`. */
  metadata?: Record<string, string>;
  /** Storage dtype (default F32). F16/BF16 round to nearest even. */
  dtype?: SafetensorsWriteDtype;
}

/** The safetensors reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------------------------
// Header parsing and validation
// ---------------------------------------------------------------------------------------------

/**
 * Validates the 8-byte length prefix against the file size and returns the header length.
 * @throws WeightsError naming `file` when the file is too short or the header claims more bytes than exist.
 */
export function checkHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8 || prefix.length < 8)
    throw new WeightsError(file, `not a safetensors file: ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n === 0n) throw new WeightsError(file, 'safetensors header length is 0');
  if (n > BigInt(fileSize - 8)) {
    throw new WeightsError(
      file,
      `safetensors header length ${n} exceeds the file size (${fileSize} bytes): truncated or not a safetensors file`,
    );
  }
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new WeightsError(file, `safetensors header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  return Number(n);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates a safetensors JSON header. `fileSize` is the size of the whole file.
 * @throws WeightsError naming `file` for bad UTF-8/JSON, unknown dtypes, malformed shapes or
 *   offsets, sizes that do not match shape × dtype, offsets outside the file, overlapping tensors.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  const dataLength = fileSize - dataStart;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    throw new WeightsError(file, `safetensors header is not valid UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`, {
      cause: error,
    });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new WeightsError(file, 'safetensors header must be a JSON object');
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        throw new WeightsError(file, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new WeightsError(file, `__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
      }
      metadata = value as Record<string, string>;
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new WeightsError(file, `tensor "${name}": header entry must be an object`);
    const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
    if (typeof dtype !== 'string' || !Object.hasOwn(SAFETENSORS_DTYPE_BYTES, dtype)) {
      throw new WeightsError(
        file,
        `tensor "${name}": unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(', ')})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      throw new WeightsError(file, `tensor "${name}": shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]) {
      throw new WeightsError(
        file,
        `tensor "${name}": data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    const bytes = elements * SAFETENSORS_DTYPE_BYTES[dtype as SafetensorsDtype];
    if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
      throw new WeightsError(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${bytes}`,
      );
    }
    if (end > dataLength) {
      throw new WeightsError(
        file,
        `tensor "${name}": data_offsets [${begin}, ${end}] are out of range: the data section has ${Math.max(dataLength, 0)} bytes`,
      );
    }
    entries.push({ name, dtype: dtype as SafetensorsDtype, shape: [...(shape as number[])], begin, end });
  }
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.begin < prev.end) {
      throw new WeightsError(
        file,
        `tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${cur.name}" [${cur.begin}, ${cur.end}) overlap`,
      );
    }
  }
  return { entries, metadata, dataStart, dataLength };
}

// ---------------------------------------------------------------------------------------------
// dtype conversion
// ---------------------------------------------------------------------------------------------

let halfTable: Float32Array | undefined;

/** float16 bits → float32, for every one of the 65536 bit patterns (built once, 256 KB). */
function float16Table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = float16BitsToNumber(h);
  halfTable = t;
  return t;
}

/** IEEE 754 binary16 bits → number (exact). */
export function float16BitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** number → IEEE 754 binary16 bits, rounding the float32 value to nearest even. */
export function numberToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Inf, or a quiet NaN
  const e = exp - 112; // re-biased exponent: float32 bias 127, float16 bias 15
  if (e >= 31) return sign | 0x7c00; // overflow → Inf
  if (e <= 0) {
    // float16 subnormal: m = value · 2^24 = (1.mant · 2^23) >> (14 - e), rounded to nearest even.
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const full = mant | 0x800000;
    const shift = 14 - e;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) === 1)) m++; // may carry into the smallest normal: still correct
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry into the exponent rounds up to the next binade or Inf
  return h;
}

/** number → bfloat16 bits (the upper half of the float32), rounding to nearest even. */
export function numberToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return (x >>> 16) | 0x40; // quiet NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** A typed-array view when the offset is aligned (and the host little-endian), otherwise an aligned copy. */
function viewOrCopy<T extends Float32Array | Uint16Array | Float64Array>(
  ctor: { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number },
  data: Uint8Array,
  begin: number,
  end: number,
): T {
  const n = (end - begin) / ctor.BYTES_PER_ELEMENT;
  const offset = data.byteOffset + begin;
  if (offset % ctor.BYTES_PER_ELEMENT === 0) return new ctor(data.buffer as ArrayBuffer, offset, n);
  const copy = new Uint8Array(end - begin);
  copy.set(data.subarray(begin, end));
  return new ctor(copy.buffer, 0, n);
}

/** Converts one entry of the data section to float32. F32 on an aligned offset is a zero-copy view. */
function toFloat32(entry: SafetensorsEntry, data: Uint8Array, file: string): Float32Array {
  const { begin, end } = entry;
  if (!LITTLE_ENDIAN) {
    // Portable (slow) path for big-endian hosts: safetensors is always little-endian.
    const view = new DataView(data.buffer, data.byteOffset + begin, end - begin);
    const n = (end - begin) / SAFETENSORS_DTYPE_BYTES[entry.dtype];
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (entry.dtype === 'F32') out[i] = view.getFloat32(4 * i, true);
      else if (entry.dtype === 'F64') out[i] = view.getFloat64(8 * i, true);
      else if (entry.dtype === 'F16') out[i] = float16BitsToNumber(view.getUint16(2 * i, true));
      else if (entry.dtype === 'BF16') {
        u32[0] = view.getUint16(2 * i, true) << 16;
        out[i] = f32[0]!;
      } else throw notFloat(entry, file);
    }
    return out;
  }
  switch (entry.dtype) {
    case 'F32':
      return viewOrCopy(Float32Array, data, begin, end);
    case 'F64':
      return Float32Array.from(viewOrCopy(Float64Array, data, begin, end));
    case 'F16': {
      const halves = viewOrCopy(Uint16Array, data, begin, end);
      const table = float16Table();
      const out = new Float32Array(halves.length);
      for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
      return out;
    }
    case 'BF16': {
      // bfloat16 is the upper half of a float32: shift the bits into place.
      const halves = viewOrCopy(Uint16Array, data, begin, end);
      const bits = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw notFloat(entry, file);
  }
}

function notFloat(entry: SafetensorsEntry, file: string): WeightsError {
  return new WeightsError(
    file,
    `tensor "${entry.name}" has dtype ${entry.dtype}; only ${FLOAT_DTYPES.join(', ')} can be loaded as weights`,
  );
}

function collect(header: SafetensorsHeader, data: Uint8Array, file: string, options: ReadSafetensorsOptions): SafetensorsContents {
  const tensors: WeightMap = new Map();
  for (const entry of header.entries) {
    if (options.select && !options.select(entry)) continue;
    tensors.set(entry.name, { shape: [...entry.shape], data: toFloat32(entry, data, file) });
  }
  return { tensors, metadata: header.metadata, header };
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

async function readExactly(handle: FileHandle, target: Uint8Array, position: number, file: string): Promise<void> {
  // One read call is limited to 2 GiB; read in 256 MiB chunks.
  const chunk = 256 * 1024 * 1024;
  let done = 0;
  while (done < target.length) {
    const length = Math.min(chunk, target.length - done);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0)
      throw new WeightsError(file, `file ended early while reading bytes ${position + done}..${position + target.length}`);
    done += bytesRead;
  }
}

/** Reads and validates only the header of a safetensors file. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await openForReading(file);
  try {
    return await readHeader(handle, file);
  } finally {
    await handle.close();
  }
}

async function openForReading(file: string): Promise<FileHandle> {
  let kind: string | undefined;
  try {
    // Only a regular file (symlinks followed): opening a FIFO blocks until a writer appears, and a
    // device such as /dev/zero has no size to check the header against.
    const info = await stat(file);
    if (!info.isFile()) kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO (named pipe)' : 'a device or socket';
  } catch {
    // Reported by open below, with its code.
  }
  if (kind !== undefined) throw new WeightsError(file, `is ${kind}, not a regular file; ziplm reads only regular files`);
  try {
    return await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new WeightsError(file, code === 'ENOENT' ? 'file not found' : `cannot open (${code ?? String(error)})`, { cause: error });
  }
}

async function readHeader(handle: FileHandle, file: string): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const prefix = new Uint8Array(8);
  if (size >= 8) await readExactly(handle, prefix, 0, file);
  const n = checkHeaderLength(prefix, size, file);
  const headerBytes = new Uint8Array(n);
  await readExactly(handle, headerBytes, 8, file);
  return parseSafetensorsHeader(headerBytes, size, file);
}

/**
 * Reads a safetensors file: validates the header, reads the data section once, and returns the
 * selected tensors as float32 (F32 as views into the one buffer, F16/BF16/F64 converted).
 * @throws WeightsError naming `file` for any malformed header, out-of-range data or a selected
 *   tensor whose dtype is not a float dtype.
 */
export async function readSafetensors(file: string, options: ReadSafetensorsOptions = {}): Promise<SafetensorsContents> {
  const handle = await openForReading(file);
  try {
    const header = await readHeader(handle, file);
    const selected = header.entries.filter((e) => !options.select || options.select(e));
    for (const entry of selected) if (!FLOAT_DTYPES.includes(entry.dtype)) throw notFloat(entry, file);
    // Read up to the last selected byte only; its size was checked against the real file size.
    const needed = selected.reduce((m, e) => Math.max(m, e.end), 0);
    const data = new Uint8Array(needed);
    await readExactly(handle, data, header.dataStart, file);
    return collect(header, data, file, { select: options.select });
  } finally {
    await handle.close();
  }
}

/** Decodes a safetensors file already in memory (F32 tensors are views when aligned). `file` names it in errors. */
export function decodeSafetensors(bytes: Uint8Array, options: ReadSafetensorsOptions & { file?: string } = {}): SafetensorsContents {
  const file = options.file ?? '<safetensors buffer>';
  const n = checkHeaderLength(bytes.subarray(0, 8), bytes.length, file);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, file);
  for (const entry of header.entries)
    if ((!options.select || options.select(entry)) && !FLOAT_DTYPES.includes(entry.dtype)) throw notFloat(entry, file);
  return collect(header, bytes.subarray(header.dataStart), file, options);
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function entriesOf(tensors: WeightMap | Iterable<readonly [string, Tensor32]>, file: string): Array<readonly [string, Tensor32]> {
  const list = [...tensors];
  const seen = new Set<string>();
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new WeightsError(file, 'a tensor cannot be named "__metadata__"');
    if (seen.has(name)) throw new WeightsError(file, `duplicate tensor name "${name}"`);
    seen.add(name);
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every(isNonNegativeInt) || size !== t.data.length) {
      throw new WeightsError(file, `tensor "${name}": shape [${t.shape.join(', ')}] does not match its ${t.data.length} elements`);
    }
  }
  return list;
}

/** The header bytes (length prefix + JSON padded with spaces to a multiple of 8, so data starts 8-aligned). */
function encodeHeader(
  list: Array<readonly [string, Tensor32]>,
  dtype: SafetensorsWriteDtype,
  metadata?: Record<string, string>,
): Uint8Array {
  const bytesPer = SAFETENSORS_DTYPE_BYTES[dtype];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    const bytes = t.data.length * bytesPer;
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** One tensor's bytes in the storage dtype (a view of the tensor itself for F32 on little-endian hosts). */
function encodeData(data: Float32Array, dtype: SafetensorsWriteDtype): Uint8Array {
  if (dtype === 'F32') {
    if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const out = new Uint8Array(data.length * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) view.setFloat32(4 * i, data[i]!, true);
    return out;
  }
  const convert = dtype === 'F16' ? numberToFloat16Bits : numberToBfloat16Bits;
  const out = new Uint8Array(data.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setUint16(2 * i, convert(data[i]!), true);
  return out;
}

/** Serialises tensors (in iteration order) to safetensors bytes in memory. */
export function encodeSafetensors(
  tensors: WeightMap | Iterable<readonly [string, Tensor32]>,
  options: WriteSafetensorsOptions = {},
): Uint8Array {
  const dtype = options.dtype ?? 'F32';
  const list = entriesOf(tensors, '<safetensors buffer>');
  const header = encodeHeader(list, dtype, options.metadata);
  const total = header.length + list.reduce((s, [, t]) => s + t.data.length * SAFETENSORS_DTYPE_BYTES[dtype], 0);
  const out = new Uint8Array(total);
  out.set(header);
  let offset = header.length;
  for (const [, t] of list) {
    const bytes = encodeData(t.data, dtype);
    out.set(bytes, offset);
    offset += bytes.length;
  }
  return out;
}

/**
 * Writes tensors (in iteration order) to a safetensors file atomically and durably: the bytes go to a
 * temporary file next to `file`, which is fsynced and renamed over `file` only once complete
 * (@ziplm/core/node's `writeFileAtomicWith`). Tensors are streamed one by one (no second in-memory
 * copy of the whole file).
 */
export async function writeSafetensors(
  file: string,
  tensors: WeightMap | Iterable<readonly [string, Tensor32]>,
  options: WriteSafetensorsOptions = {},
): Promise<void> {
  const dtype = options.dtype ?? 'F32';
  const list = entriesOf(tensors, file);
  const header = encodeHeader(list, dtype, options.metadata);
  await writeFileAtomicWith(file, async (handle) => {
    await handle.write(header);
    for (const [, t] of list) {
      const bytes = encodeData(t.data, dtype);
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, Math.min(bytes.length - done, 256 * 1024 * 1024));
        done += bytesWritten;
      }
    }
  });
}
