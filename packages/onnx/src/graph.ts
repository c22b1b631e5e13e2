// A small builder for ONNX graphs: declare inputs, add initializers and nodes in topological order
// (each node's inputs must already exist, so mistakes surface where they are made, not inside
// onnxruntime), mark outputs, serialise.

import { OnnxGraphError } from './errors.js';
import type { Attribute, DataType, Dim, Graph, Model, Node, Tensor, TypedArrayOf, ValueInfo } from './model.js';
import { elementCount, encodeModel } from './model.js';

/** Default opset: 17 is the first with LayerNormalization, and what onnx 1.12 (Debian 12) checks. */
export const DEFAULT_OPSET = 17;
/** IR version that goes with opset 17. */
export const DEFAULT_IR_VERSION = 8;

/**
 * An attribute value. Explicit forms (`attr.float(1)`) always work; shorthands are inferred:
 * an integer number or bigint is INT, any other number FLOAT, a string STRING, an array of integers
 * INTS, of other numbers FLOATS, of strings STRINGS. Use `attr.float(1)` for an integral float.
 */
export type AttributeInput = Attribute | number | bigint | string | readonly number[] | readonly string[];

/** Constructors for explicitly typed attributes. */
export const attr = {
  float: (value: number): Attribute => ({ type: 'float', value }),
  int: (value: number | bigint): Attribute => ({ type: 'int', value }),
  string: (value: string): Attribute => ({ type: 'string', value }),
  floats: (value: readonly number[]): Attribute => ({ type: 'floats', value }),
  ints: (value: readonly number[]): Attribute => ({ type: 'ints', value }),
  strings: (value: readonly string[]): Attribute => ({ type: 'strings', value }),
  tensor: (value: Tensor): Attribute => ({ type: 'tensor', value }),
  graph: (value: Graph): Attribute => ({ type: 'graph', value }),
};

function toAttribute(graph: string, name: string, v: AttributeInput): Attribute {
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (typeof v === 'bigint') return { type: 'int', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (Array.isArray(v)) {
    if (v.length === 0)
      throw new OnnxGraphError(graph, `attribute "${name}": an empty list has no type; use attr.ints([]) or attr.floats([])`);
    if (v.every((x) => typeof x === 'string')) return { type: 'strings', value: v as string[] };
    if (v.every((x) => typeof x === 'number')) {
      return (v as number[]).every(Number.isInteger) ? { type: 'ints', value: v as number[] } : { type: 'floats', value: v as number[] };
    }
    throw new OnnxGraphError(graph, `attribute "${name}": a list must hold only numbers or only strings`);
  }
  return v as Attribute;
}

/** Data for an initializer or constant: the element type's typed array, or plain numbers to convert. */
export type TensorInput<T extends DataType> = TypedArrayOf[T] | readonly number[];

function toTypedArray<T extends DataType>(graph: string, name: string, dataType: T, data: TensorInput<T>): TypedArrayOf[T] {
  if (!Array.isArray(data)) return data as TypedArrayOf[T];
  const values = data as readonly number[];
  switch (dataType) {
    case 'float32':
      return Float32Array.from(values) as TypedArrayOf[T];
    case 'float64':
      return Float64Array.from(values) as TypedArrayOf[T];
    case 'int64':
      return BigInt64Array.from(values, (x) => {
        if (!Number.isSafeInteger(x)) throw new OnnxGraphError(graph, `tensor "${name}": ${x} is not an integer`);
        return BigInt(x);
      }) as TypedArrayOf[T];
    case 'int32':
      return Int32Array.from(values) as TypedArrayOf[T];
    case 'int8':
      return Int8Array.from(values) as TypedArrayOf[T];
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values) as TypedArrayOf[T];
    default:
      throw new OnnxGraphError(graph, `tensor "${name}": give ${dataType} data as its typed array`);
  }
}

const ARRAY_TYPES: Record<DataType, { readonly name: string; prototype: unknown }> = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  float16: Uint16Array,
};

/** Options of one node. */
export interface NodeOptions {
  /** Node name (made unique); defaults to the op type, prefixed by the current scope. */
  readonly name?: string;
  /** Operator domain; '' = ONNX standard ops. */
  readonly domain?: string;
  /** Number of outputs (named after the node), or explicit output value names (must be new). */
  readonly outputs?: number | readonly string[];
}

/** Options of `toModel` / `toBytes`. */
export interface ModelOptions {
  /** Standard-domain opset (default 17). */
  readonly opset?: number;
  /** IR version (default 8). */
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Builds one ONNX graph. Value names share one namespace (graph inputs, initializers, node outputs)
 * and are single-assignment; `uniqueName` hands out fresh ones.
 *
 * @example
 * ```ts
 * const g = new GraphBuilder('affine');
 * const x = g.input('x', 'float32', ['batch', 4]);
 * const w = g.initializer('w', 'float32', [4, 2], new Float32Array(8).fill(0.5));
 * const y = g.op('MatMul', [x, w], {}, { outputs: ['y'] });
 * g.output(y, 'float32', ['batch', 2]);
 * const bytes = g.toBytes();
 * ```
 */
export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly initializers: Tensor[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly values = new Set<string>();
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly domains = new Set<string>();
  private scopes: string[] = [];

  constructor(readonly name: string) {}

  /** Whether a value of this name exists. */
  has(value: string): boolean {
    return this.values.has(value);
  }

  /** A value name not yet used: `prefix`, else `prefix_1`, `prefix_2`, … */
  uniqueName(prefix: string): string {
    return this.fresh(prefix, this.values);
  }

  private fresh(prefix: string, taken: ReadonlySet<string>): string {
    const base = prefix.length > 0 ? prefix : 'v';
    if (!taken.has(base)) return base;
    for (let i = 1; ; i++) {
      const candidate = `${base}_${i}`;
      if (!taken.has(candidate)) return candidate;
    }
  }

  private define(value: string, what: string): string {
    if (value.length === 0) throw new OnnxGraphError(this.name, `${what}: value names must not be empty`);
    if (this.values.has(value)) throw new OnnxGraphError(this.name, `${what}: value "${value}" is already defined`);
    this.values.add(value);
    return value;
  }

  /** Runs `build` with node names prefixed by `prefix/` (nested scopes join with '/'). */
  scope<T>(prefix: string, build: () => T): T {
    this.scopes.push(prefix);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  private scoped(name: string): string {
    return this.scopes.length > 0 ? `${this.scopes.join('/')}/${name}` : name;
  }

  /** Declares a graph input; `dims` mixes fixed sizes and symbolic names. Returns its value name. */
  input(name: string, dataType: DataType, dims: readonly Dim[]): string {
    this.define(name, `input "${name}"`);
    this.inputs.push({ name, dataType, dims: [...dims] });
    return name;
  }

  /** Adds a named initializer (a weight). Typed arrays are kept by reference until serialised. */
  initializer<T extends DataType>(name: string, dataType: T, dims: readonly number[], data: TensorInput<T>): string {
    const array = toTypedArray(this.name, name, dataType, data);
    const expected = ARRAY_TYPES[dataType];
    if (!(array instanceof (expected as unknown as typeof Uint8Array))) {
      throw new OnnxGraphError(
        this.name,
        `initializer "${name}": ${dataType} data must be a ${expected.name}, got ${(array as object).constructor.name}`,
      );
    }
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 0)
        throw new OnnxGraphError(this.name, `initializer "${name}": dims [${dims.join(', ')}] must be non-negative integers`);
    }
    const count = elementCount(dims);
    if (array.length !== count) {
      throw new OnnxGraphError(
        this.name,
        `initializer "${name}": ${array.length} elements do not fit dims [${dims.join(', ')}] (${count})`,
      );
    }
    this.define(name, `initializer "${name}"`);
    this.initializers.push({ name, dataType, dims: [...dims], data: array } as Tensor);
    return name;
  }

  /**
   * A constant tensor (an initializer with a generated name). Small constants with equal type,
   * shape and values are shared, which is also what onnxruntime's fusion patterns expect (they
   * look for scalar initializers such as 0.5 or 1.0).
   */
  constant<T extends DataType>(dataType: T, dims: readonly number[], data: TensorInput<T>, hint = 'const'): string {
    const array = toTypedArray(this.name, hint, dataType, data);
    const key =
      array.length <= 64 ? `${dataType}|${dims.join(',')}|${Array.from(array as ArrayLike<number | bigint>, String).join(',')}` : undefined;
    const existing = key === undefined ? undefined : this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.initializer(this.uniqueName(hint), dataType, dims, array);
    if (key !== undefined) this.constants.set(key, name);
    return name;
  }

  /** A scalar constant (rank 0). */
  scalar(value: number, dataType: DataType = 'float32'): string {
    return this.constant(dataType, [], [value], `${dataType === 'float32' ? 'f' : dataType}_${String(value).replace(/[^0-9a-z]/gi, '_')}`);
  }

  /** A rank-1 int64 constant (shapes, axes, starts/ends). */
  int64s(values: readonly number[]): string {
    return this.constant('int64', [values.length], values, `i64_${values.map((v) => String(v).replace('-', 'm')).join('_')}`);
  }

  /** Adds a node and returns its output value names. Inputs must exist ('' = omitted optional input). */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeInput>> = {},
    options: NodeOptions = {},
  ): string[] {
    const nodeName = this.fresh(this.scoped(options.name ?? opType), this.names);
    for (const i of inputs) {
      if (i !== '' && !this.values.has(i))
        throw new OnnxGraphError(this.name, `node "${nodeName}" (${opType}): input "${i}" is not defined yet`);
    }
    this.names.add(nodeName);
    const spec = options.outputs ?? 1;
    const outputs =
      typeof spec === 'number'
        ? Array.from({ length: spec }, (_, k) =>
            this.define(this.uniqueName(spec === 1 ? nodeName : `${nodeName}_${k}`), `node "${nodeName}"`),
          )
        : spec.map((o) => this.define(o, `node "${nodeName}"`));
    const attrs: Record<string, Attribute> = {};
    for (const [k, v] of Object.entries(attributes)) attrs[k] = toAttribute(this.name, k, v);
    const domain = options.domain ?? '';
    if (domain) this.domains.add(domain);
    this.nodes.push({ opType, inputs: [...inputs], outputs, name: nodeName, ...(domain ? { domain } : {}), attributes: attrs });
    return outputs;
  }

  /** Adds a single-output node and returns that output's name. */
  op(
    opType: string,
    inputs: readonly string[],
    attributes: Readonly<Record<string, AttributeInput>> = {},
    options: NodeOptions = {},
  ): string {
    return this.node(opType, inputs, attributes, options)[0]!;
  }

  /**
   * Marks a value as a graph output. With `as` different from `value`, an Identity node gives the
   * output its public name (a graph input or an already exported value can be exported again so).
   */
  output(value: string, dataType: DataType, dims?: readonly Dim[], as?: string): string {
    if (!this.values.has(value)) throw new OnnxGraphError(this.name, `output "${as ?? value}": value "${value}" is not defined`);
    let name = value;
    const alreadyOutput = this.outputs.some((o) => o.name === value);
    if ((as !== undefined && as !== value) || alreadyOutput || this.inputs.some((i) => i.name === value)) {
      name = this.op('Identity', [value], {}, { outputs: [as ?? this.uniqueName(`${value}_out`)] });
    }
    this.outputs.push({ name, dataType, ...(dims !== undefined ? { dims: [...dims] } : {}) });
    return name;
  }

  /** The graph built so far (initializer data is shared, not copied). */
  toGraph(): Graph {
    if (this.outputs.length === 0) throw new OnnxGraphError(this.name, 'has no outputs');
    return {
      name: this.name,
      nodes: [...this.nodes],
      initializers: [...this.initializers],
      inputs: [...this.inputs],
      outputs: [...this.outputs],
    };
  }

  /** The graph wrapped in a model with opset imports (contrib domains used by nodes are imported at version 1). */
  toModel(options: ModelOptions = {}): Model {
    const opsetImports = [
      { domain: '', version: options.opset ?? DEFAULT_OPSET },
      ...[...this.domains].map((domain) => ({ domain, version: 1 })),
    ];
    return {
      irVersion: options.irVersion ?? DEFAULT_IR_VERSION,
      opsetImports,
      producerName: options.producerName ?? '@ziplm/onnx',
      ...(options.producerVersion ? { producerVersion: options.producerVersion } : {}),
      ...(options.docString ? { docString: options.docString } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      graph: this.toGraph(),
    };
  }

  /** Serialised ONNX model bytes. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }
}
