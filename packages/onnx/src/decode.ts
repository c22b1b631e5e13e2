// A minimal ONNX decoder: the inverse of `encodeModel` for the fields this package models. It is
// used by tests (round trips, checking which ops onnxruntime fused) and for inspecting a file;
// unknown fields are skipped, as protobuf requires.

import { OnnxDecodeError } from './errors.js';
import type { Attribute, DataType, Dim, Graph, Model, Node, Tensor, TensorData, ValueInfo } from './model.js';
import { ATTRIBUTE_TYPES, dataTypeFromNumber, elementCount } from './model.js';
import { readFields, readPackedFloats, readPackedVarints, utf8, WireType, type ProtoField } from './internal/protobuf.js';

function int64(value: bigint | Uint8Array): number {
  if (typeof value !== 'bigint') throw new RangeError('expected a varint');
  return Number(BigInt.asIntN(64, value));
}

function sub(fields: readonly ProtoField[], field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of fields) if (f.field === field && f.wire === WireType.LengthDelimited) out.push(f.value as Uint8Array);
  return out;
}

function first(fields: readonly ProtoField[], field: number): ProtoField | undefined {
  let found: ProtoField | undefined;
  for (const f of fields) if (f.field === field) found = f; // protobuf: last one wins
  return found;
}

function str(fields: readonly ProtoField[], field: number): string | undefined {
  const f = first(fields, field);
  return f === undefined ? undefined : utf8(f.value);
}

const ARRAY_CTORS = {
  float32: Float32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
  float16: Uint16Array,
  float64: Float64Array,
} as const;

function decodeTensor(bytes: Uint8Array): Tensor {
  const f = readFields(bytes);
  const dims = readPackedVarints(f, 1).map((d) => Number(BigInt.asIntN(64, d)));
  const typeField = first(f, 2);
  const typeNumber = typeField ? int64(typeField.value) : 0;
  const dataType = dataTypeFromNumber(typeNumber);
  const name = str(f, 8);
  if (dataType === undefined) throw new RangeError(`tensor "${name ?? ''}" has unsupported data_type ${typeNumber}`);
  // data_location (14) = EXTERNAL: the values live in another file (external_data (13) says which), as in exports
  // over 2 GiB (model.onnx + model.onnx_data). Said plainly, rather than as "0 elements" further down.
  const location = first(f, 14);
  if (location !== undefined && int64(location.value) === 1) {
    const entries = sub(f, 13).map((e) => readFields(e));
    const externalFile = entries.find((e) => str(e, 1) === 'location');
    throw new RangeError(
      `tensor "${name ?? ''}" keeps its data in an external file${externalFile ? ` ("${str(externalFile, 2) ?? ''}")` : ''}; external data is not supported`,
    );
  }
  const count = elementCount(dims);
  const Ctor = ARRAY_CTORS[dataType];
  const raw = first(f, 9);
  let data: TensorData;
  if (raw !== undefined) {
    const b = raw.value as Uint8Array;
    if (b.length !== count * Ctor.BYTES_PER_ELEMENT) {
      throw new RangeError(
        `tensor "${name ?? ''}": raw_data has ${b.length} bytes, dims [${dims.join(', ')}] need ${count * Ctor.BYTES_PER_ELEMENT}`,
      );
    }
    // Copy so the result is aligned and independent of the input buffer.
    data = new Ctor(count) as TensorData;
    new Uint8Array(data.buffer).set(b);
  } else if (dataType === 'float32') {
    data = Float32Array.from(readPackedFloats(f, 4));
  } else if (dataType === 'float64') {
    const parts = sub(f, 10);
    const values: number[] = [];
    for (const p of parts) {
      const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
      for (let i = 0; i + 8 <= p.length; i += 8) values.push(view.getFloat64(i, true));
    }
    for (const x of f)
      if (x.field === 10 && x.wire === WireType.Fixed64)
        values.push(new DataView((x.value as Uint8Array).slice().buffer).getFloat64(0, true));
    data = Float64Array.from(values);
  } else if (dataType === 'int64') {
    data = BigInt64Array.from(readPackedVarints(f, 7).map((v) => BigInt.asIntN(64, v)));
  } else {
    // int32_data (5) carries int32, int8, uint8, bool and float16 (as bits).
    const values = readPackedVarints(f, 5).map((v) => Number(BigInt.asIntN(32, v)));
    data = (Ctor as unknown as { from(v: number[]): TensorData }).from(values);
  }
  if (data.length !== count)
    throw new RangeError(`tensor "${name ?? ''}" has ${data.length} elements, dims [${dims.join(', ')}] need ${count}`);
  return { ...(name !== undefined ? { name } : {}), dataType, dims, data } as Tensor;
}

function decodeValueInfo(bytes: Uint8Array): ValueInfo {
  const f = readFields(bytes);
  const name = str(f, 1) ?? '';
  const type = sub(f, 2)[0];
  let dataType: DataType = 'float32';
  let dims: Dim[] | undefined;
  if (type) {
    const tensorType = sub(readFields(type), 1)[0];
    if (tensorType === undefined) throw new RangeError(`value "${name}" is not a tensor`);
    const tf = readFields(tensorType);
    const elem = first(tf, 1);
    const t = dataTypeFromNumber(elem ? int64(elem.value) : 0);
    if (t === undefined) throw new RangeError(`value "${name}" has an unsupported element type`);
    dataType = t;
    const shape = sub(tf, 2)[0];
    if (shape !== undefined) {
      dims = sub(readFields(shape), 1).map((d) => {
        const df = readFields(d);
        const v = first(df, 1);
        if (v !== undefined) return int64(v.value);
        return str(df, 2) ?? '?';
      });
    }
  }
  const docString = str(f, 3);
  return { name, dataType, ...(dims !== undefined ? { dims } : {}), ...(docString ? { docString } : {}) };
}

function decodeAttribute(bytes: Uint8Array): [string, Attribute] {
  const f = readFields(bytes);
  const name = str(f, 1) ?? '';
  const typeField = first(f, 20);
  const typeNumber = typeField ? int64(typeField.value) : 0;
  const type = (Object.keys(ATTRIBUTE_TYPES) as (keyof typeof ATTRIBUTE_TYPES)[]).find((k) => ATTRIBUTE_TYPES[k] === typeNumber);
  switch (type) {
    case 'float': {
      const v = first(f, 2);
      return [name, { type, value: v ? new DataView((v.value as Uint8Array).slice().buffer).getFloat32(0, true) : 0 }];
    }
    case 'int': {
      const v = first(f, 3);
      return [name, { type, value: v ? int64(v.value) : 0 }];
    }
    case 'string':
      return [name, { type, value: str(f, 4) ?? '' }];
    case 'tensor':
      return [name, { type, value: decodeTensor(sub(f, 5)[0] ?? new Uint8Array()) }];
    case 'graph':
      return [name, { type, value: decodeGraph(sub(f, 6)[0] ?? new Uint8Array()) }];
    case 'floats':
      return [name, { type, value: readPackedFloats(f, 7) }];
    case 'ints':
      return [name, { type, value: readPackedVarints(f, 8).map((v) => Number(BigInt.asIntN(64, v))) }];
    case 'strings':
      return [name, { type, value: sub(f, 9).map((b) => utf8(b)) }];
    case 'tensors':
      return [name, { type, value: sub(f, 10).map(decodeTensor) }];
    case 'graphs':
      return [name, { type, value: sub(f, 11).map(decodeGraph) }];
    default:
      throw new RangeError(`attribute "${name}" has unsupported type ${typeNumber}`);
  }
}

function decodeNode(bytes: Uint8Array): Node {
  const f = readFields(bytes);
  const attributes = Object.fromEntries(sub(f, 5).map(decodeAttribute));
  const name = str(f, 3);
  const domain = str(f, 7);
  return {
    opType: str(f, 4) ?? '',
    inputs: sub(f, 1).map((b) => utf8(b)),
    outputs: sub(f, 2).map((b) => utf8(b)),
    ...(name !== undefined ? { name } : {}),
    ...(domain ? { domain } : {}),
    attributes,
  };
}

function decodeGraph(bytes: Uint8Array): Graph {
  const f = readFields(bytes);
  return {
    name: str(f, 2) ?? '',
    nodes: sub(f, 1).map(decodeNode),
    initializers: sub(f, 5).map(decodeTensor),
    inputs: sub(f, 11).map(decodeValueInfo),
    outputs: sub(f, 12).map(decodeValueInfo),
    valueInfo: sub(f, 13).map(decodeValueInfo),
  };
}

/**
 * Decodes ONNX model bytes into the plain objects `encodeModel` takes. `source` names the bytes in
 * error messages (e.g. the file they came from).
 */
export function decodeModel(bytes: Uint8Array, source = 'ONNX model bytes'): Model {
  try {
    const f = readFields(bytes);
    const irField = first(f, 1);
    const graph = sub(f, 7)[0];
    if (irField === undefined) throw new RangeError('ir_version is missing');
    if (graph === undefined) throw new RangeError('graph is missing');
    const opsetImports = sub(f, 8).map((b) => {
      const o = readFields(b);
      const v = first(o, 2);
      return { domain: str(o, 1) ?? '', version: v ? int64(v.value) : 0 };
    });
    const metadata: Record<string, string> = {};
    for (const e of sub(f, 14)) {
      const ef = readFields(e);
      metadata[str(ef, 1) ?? ''] = str(ef, 2) ?? '';
    }
    const producerName = str(f, 2);
    const producerVersion = str(f, 3);
    const docString = str(f, 6);
    return {
      irVersion: int64(irField.value),
      opsetImports,
      ...(producerName !== undefined ? { producerName } : {}),
      ...(producerVersion !== undefined ? { producerVersion } : {}),
      ...(docString !== undefined ? { docString } : {}),
      metadata,
      graph: decodeGraph(graph),
    };
  } catch (error) {
    if (error instanceof OnnxDecodeError) throw error;
    throw new OnnxDecodeError(source, error instanceof Error ? error.message : String(error), { cause: error });
  }
}
