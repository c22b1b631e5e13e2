// The metadata of an ONNX model (ModelProto.metadata_props, field 14) without decoding its graph.
// `decodeModel` of @ziplm/onnx decodes (and copies) every weight; a page checking which workload a
// member graph of hundreds of megabytes was exported for needs only the few metadata strings, so this
// walks the top-level fields of the ModelProto and skips the graph (field 7) by its length. Bytes a
// page was handed are untrusted: every length is checked against the buffer before it is used.

const METADATA_PROPS = 14;
const KEY = 1;
const VALUE = 2;

/** Wire types of protobuf (the encoding of ONNX files). */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A protobuf reader over `bytes[start, end)`; throws RangeError on malformed input. */
class FieldReader {
  constructor(
    private readonly bytes: Uint8Array,
    private offset: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.offset >= this.end;
  }

  /** A varint as a number; values beyond 2^53 lose precision, which only lengths and tags here care about (and are bounded). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.end) throw new RangeError('truncated varint');
      const byte = this.bytes[this.offset++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** The next field's number, wire type and (length-delimited) payload bounds; skips other payloads. */
  next(): { field: number; wire: number; start: number; end: number } {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    const start = this.offset;
    switch (wire) {
      case VARINT:
        this.varint();
        break;
      case FIXED64:
        this.offset += 8;
        break;
      case FIXED32:
        this.offset += 4;
        break;
      case LENGTH_DELIMITED: {
        const length = this.varint();
        if (length > this.end - this.offset)
          throw new RangeError(`field ${field} claims ${length} bytes, ${this.end - this.offset} remain`);
        this.offset += length;
        return { field, wire, start: this.offset - length, end: this.offset };
      }
      default:
        throw new RangeError(`unsupported wire type ${wire} (field ${field})`);
    }
    if (this.offset > this.end) throw new RangeError(`field ${field} runs past the end`);
    return { field, wire, start, end: this.offset };
  }
}

/**
 * The metadata key/value pairs of ONNX model bytes (empty when it has none). Throws RangeError when
 * the bytes are not a well-formed protobuf message (TypeError for a string that is not UTF-8).
 */
export function readOnnxMetadata(bytes: Uint8Array): Map<string, string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // A Map: keys come from the file, and one named "__proto__" must stay a key.
  const metadata = new Map<string, string>();
  const model = new FieldReader(bytes, 0, bytes.length);
  while (!model.done) {
    const entry = model.next();
    if (entry.field !== METADATA_PROPS || entry.wire !== LENGTH_DELIMITED) continue;
    let key = '';
    let value = '';
    const fields = new FieldReader(bytes, entry.start, entry.end);
    while (!fields.done) {
      const f = fields.next();
      if (f.wire !== LENGTH_DELIMITED) continue;
      // protobuf: the last occurrence of a field wins.
      if (f.field === KEY) key = decoder.decode(bytes.subarray(f.start, f.end));
      else if (f.field === VALUE) value = decoder.decode(bytes.subarray(f.start, f.end));
    }
    metadata.set(key, value);
  }
  return metadata;
}
