// ONNX's data model (onnx/onnx.proto, IR version 8) as plain TypeScript objects, and its encoder.
// Only what exporting inference graphs needs is modelled: no sparse tensors, training info,
// functions or external data. Field numbers are onnx.proto's and must never change.

import { bytesOf, HOST_IS_LITTLE_ENDIAN, ProtoWriter } from './internal/protobuf.js';

/** Element types, by ONNX TensorProto.DataType number. */
export const DATA_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
} as const;

/** An ONNX element type this package writes and reads. */
export type DataType = keyof typeof DATA_TYPES;

/** The typed array that holds each element type (float16 as raw IEEE half bits; bool as 0/1 bytes). */
export interface TypedArrayOf {
  float32: Float32Array;
  uint8: Uint8Array;
  int8: Int8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
  float16: Uint16Array;
  float64: Float64Array;
}

export type TensorData = TypedArrayOf[DataType];

/** Name of the element type with this ONNX number, or undefined when this package does not model it. */
export function dataTypeFromNumber(n: number): DataType | undefined {
  for (const [name, value] of Object.entries(DATA_TYPES)) if (value === n) return name as DataType;
  return undefined;
}

/** A dimension: a fixed size, or a symbolic name (`dim_param`, e.g. "batch") bound at run time. */
export type Dim = number | string;

/** A constant tensor (an initializer, or a tensor-valued attribute). Row-major. */
export interface Tensor<T extends DataType = DataType> {
  readonly name?: string;
  readonly dataType: T;
  readonly dims: readonly number[];
  readonly data: TypedArrayOf[T];
}

/** A graph input or output: name, element type and shape (undefined dims = unknown rank). */
export interface ValueInfo {
  readonly name: string;
  readonly dataType: DataType;
  readonly dims?: readonly Dim[];
  readonly docString?: string;
}

/** A node attribute with its ONNX type made explicit. */
export type Attribute =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number | bigint }
  | { readonly type: 'string'; readonly value: string | Uint8Array }
  | { readonly type: 'tensor'; readonly value: Tensor }
  | { readonly type: 'graph'; readonly value: Graph }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly type: 'tensors'; readonly value: readonly Tensor[] }
  | { readonly type: 'graphs'; readonly value: readonly Graph[] };

/** AttributeProto.AttributeType numbers. */
export const ATTRIBUTE_TYPES = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
} as const;

/** One operator application. An empty input name marks an omitted optional input. */
export interface Node {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  /** Operator domain; '' (default) is the ONNX standard domain, 'com.microsoft' onnxruntime's contrib ops. */
  readonly domain?: string;
  readonly attributes?: Readonly<Record<string, Attribute>>;
  readonly docString?: string;
}

/** A graph: nodes in topological order, constant initializers, typed inputs and outputs. */
export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly initializers: readonly Tensor[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly valueInfo?: readonly ValueInfo[];
  readonly docString?: string;
}

/** A whole model file. */
export interface Model {
  /** ONNX IR version; 8 goes with opset 17 (onnx 1.12), which every runtime in use reads. */
  readonly irVersion: number;
  readonly opsetImports: readonly { readonly domain: string; readonly version: number }[];
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  /** Free-form key/value metadata (ModelProto.metadata_props). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly graph: Graph;
}

/** Number of elements of a shape (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Encoder (field numbers from onnx.proto)
// ---------------------------------------------------------------------------------------------

function encodeTensor(t: Tensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims); // dims
  w.int(2, DATA_TYPES[t.dataType]); // data_type
  if (t.name !== undefined) w.string(8, t.name); // name
  // raw_data (9) holds the little-endian bytes of every element type we write; it is the most
  // compact form and what onnxruntime maps directly.
  if (!HOST_IS_LITTLE_ENDIAN) throw new RangeError('ONNX raw_data: big-endian hosts are not supported');
  w.bytes(9, bytesOf(t.data));
  return w;
}

function encodeValueInfo(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims ?? []) {
    const dim = new ProtoWriter();
    if (typeof d === 'number')
      dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, DATA_TYPES[v.dataType]); // elem_type
  // An empty TensorShapeProto means rank 0; no shape field means unknown rank.
  if (v.dims !== undefined) tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType); // TypeProto.tensor_type
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  if (v.docString) w.string(3, v.docString);
  return w;
}

function encodeAttribute(name: string, a: Attribute): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  w.int(20, ATTRIBUTE_TYPES[a.type]); // type
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.bytes(4, typeof a.value === 'string' ? new TextEncoder().encode(a.value) : a.value);
      break;
    case 'tensor':
      w.message(5, encodeTensor(a.value));
      break;
    case 'graph':
      w.message(6, encodeGraph(a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
    case 'strings':
      for (const s of a.value) w.string(9, s);
      break;
    case 'tensors':
      for (const t of a.value) w.message(10, encodeTensor(t));
      break;
    case 'graphs':
      for (const g of a.value) w.message(11, encodeGraph(g));
      break;
  }
  return w;
}

function encodeNode(n: Node): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(name, a));
  if (n.docString) w.string(6, n.docString);
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeGraph(g: Graph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const v of g.inputs) w.message(11, encodeValueInfo(v));
  for (const v of g.outputs) w.message(12, encodeValueInfo(v));
  for (const v of g.valueInfo ?? []) w.message(13, encodeValueInfo(v));
  return w;
}

/** Serialises a model to ONNX protobuf bytes. Large initializers are copied exactly once. */
export function encodeModel(model: Model): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion); // ir_version
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, encodeGraph(model.graph)); // graph
  for (const op of model.opsetImports) {
    const o = new ProtoWriter();
    if (op.domain) o.string(1, op.domain);
    o.int(2, op.version);
    w.message(8, o); // opset_import
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    const e = new ProtoWriter();
    e.string(1, key);
    e.string(2, value);
    w.message(14, e); // metadata_props
  }
  return w.finish();
}
