// The subset of the protobuf wire format that ONNX needs: varints, length-delimited fields (strings,
// bytes, nested messages, packed repeated numbers) and fixed32 floats. Wire format reference:
// https://protobuf.dev/programming-guides/encoding/.
//
// The writer never copies a large payload more than once. Nested messages are written bottom-up
// (TensorProto inside GraphProto inside ModelProto), and a naive encoder would copy a 400 MB
// initializer once per nesting level. Here a message is a list of chunks plus its length; nesting
// appends a tag, a length and *references* to the child's chunks, and `finish()` does the single
// copy into the output buffer.

/** Protobuf wire types. */
export enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

const textEncoder = new TextEncoder();
const SCRATCH = 1024;
/** Payloads at least this long are kept by reference instead of copied into the scratch buffer. */
const BY_REFERENCE = 512;

/** Whether the host stores typed arrays little-endian, as protobuf's fixed-width and ONNX raw_data require. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes of a typed array as a view (no copy). */
export function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** An append-only protobuf message writer. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private chunksLength = 0;
  private scratch = new Uint8Array(SCRATCH);
  private pos = 0;
  private readonly view = new DataView(new ArrayBuffer(8));

  /** Encoded length so far, in bytes. */
  get length(): number {
    return this.chunksLength + this.pos;
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.scratch.subarray(0, this.pos));
    this.chunksLength += this.pos;
    this.scratch = this.scratch.subarray(this.pos);
    this.pos = 0;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    this.flushScratch();
    this.scratch = new Uint8Array(Math.max(SCRATCH, n));
  }

  private byte(b: number): void {
    this.reserve(1);
    this.scratch[this.pos++] = b;
  }

  /** Appends raw bytes: small ones are copied, large ones kept by reference (do not mutate them before `finish`). */
  raw(bytes: Uint8Array): void {
    if (bytes.length >= BY_REFERENCE) {
      this.flushScratch();
      this.chunks.push(bytes);
      this.chunksLength += bytes.length;
      return;
    }
    this.reserve(bytes.length);
    this.scratch.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /**
   * Unsigned varint of a non-negative safe integer, or of an int64 in two's complement (negative
   * numbers and bigints take 10 bytes, as protobuf's int64 does).
   */
  varint(value: number | bigint): void {
    if (typeof value === 'number' && value >= 0) {
      if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe non-negative integer`);
      let v = value;
      while (v >= 0x80) {
        this.byte((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      this.byte(v);
      return;
    }
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`protobuf varint: ${value} is not a safe integer`);
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  /** A field key: (field number << 3) | wire type. */
  tag(field: number, wire: WireType): void {
    this.varint(field * 8 + wire);
  }

  /** An int32/int64/enum/bool field. */
  int(field: number, value: number | bigint): void {
    this.tag(field, WireType.Varint);
    this.varint(value);
  }

  /** A float field (fixed32, little-endian). */
  float(field: number, value: number): void {
    this.tag(field, WireType.Fixed32);
    this.view.setFloat32(0, value, true);
    this.raw(new Uint8Array(this.view.buffer, 0, 4));
  }

  /** A bytes field. */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint(value.length);
    this.raw(value);
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): void {
    this.bytes(field, textEncoder.encode(value));
  }

  /** A nested message field; the child's chunks are referenced, not copied. */
  message(field: number, child: ProtoWriter): void {
    this.tag(field, WireType.LengthDelimited);
    this.varint(child.length);
    child.flushScratch();
    this.flushScratch();
    for (const chunk of child.chunks) this.chunks.push(chunk);
    this.chunksLength += child.chunksLength;
  }

  /** A packed repeated int32/int64 field. */
  packedInts(field: number, values: ArrayLike<number | bigint>): void {
    if (values.length === 0) return;
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]!);
    this.message(field, inner);
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: ArrayLike<number>): void {
    if (values.length === 0) return;
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    if (!HOST_IS_LITTLE_ENDIAN) throw new RangeError('protobuf packed floats: big-endian hosts are not supported');
    this.bytes(field, bytesOf(data));
  }

  /** The whole message as one buffer (the only copy of large payloads). */
  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.chunksLength);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** One field read from a message: varints as bigint, length-delimited fields as views into the input. */
export interface ProtoField {
  readonly field: number;
  readonly wire: WireType;
  readonly value: bigint | Uint8Array;
}

/** Reads a message into its fields, in order. Throws RangeError on truncated or malformed input. */
export function readFields(bytes: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError(`truncated varint at byte ${pos}`);
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError(`varint longer than 10 bytes at byte ${pos}`);
    }
  };
  const take = (n: number): Uint8Array => {
    if (n < 0 || pos + n > bytes.length)
      throw new RangeError(`field of ${n} bytes at byte ${pos} runs past the end (${bytes.length} bytes)`);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  while (pos < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n) as WireType;
    if (field === 0) throw new RangeError(`field number 0 at byte ${pos}`);
    switch (wire) {
      case WireType.Varint:
        fields.push({ field, wire, value: varint() });
        break;
      case WireType.Fixed64:
        fields.push({ field, wire, value: take(8) });
        break;
      case WireType.LengthDelimited: {
        const n = varint();
        if (n > BigInt(bytes.length)) throw new RangeError(`length ${n} at byte ${pos} exceeds the input (${bytes.length} bytes)`);
        fields.push({ field, wire, value: take(Number(n)) });
        break;
      }
      case WireType.Fixed32:
        fields.push({ field, wire, value: take(4) });
        break;
      default:
        throw new RangeError(`unsupported wire type ${wire} for field ${field} at byte ${pos}`);
    }
  }
  return fields;
}

/** Values of a repeated varint field, accepting both packed and unpacked encodings. */
export function readPackedVarints(fields: readonly ProtoField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === WireType.Varint) out.push(f.value as bigint);
    else if (f.wire === WireType.LengthDelimited) for (const inner of readRawVarints(f.value as Uint8Array)) out.push(inner);
  }
  return out;
}

function readRawVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('truncated packed varint');
      const b = bytes[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    out.push(result);
  }
  return out;
}

/** Values of a repeated float field, packed or not. */
export function readPackedFloats(fields: readonly ProtoField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    const b = f.value as Uint8Array;
    if (f.wire !== WireType.Fixed32 && f.wire !== WireType.LengthDelimited) continue;
    if (b.length % 4 !== 0) throw new RangeError(`packed floats of ${b.length} bytes (not a multiple of 4)`);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < b.length; i += 4) out.push(view.getFloat32(i, true));
  }
  return out;
}

const textDecoder = new TextDecoder();

/** A UTF-8 string from a length-delimited field value. */
export function utf8(value: bigint | Uint8Array): string {
  if (!(value instanceof Uint8Array)) throw new RangeError('expected a length-delimited field, got a varint');
  return textDecoder.decode(value);
}
