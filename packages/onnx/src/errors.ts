// Typed errors of @ziplm/onnx. Messages name what was being built or read and the problem. Each class
// has its own stable `code` (Node style): callers branch on `error.code`, never on the class name.

/** The `code` of every error @ziplm/onnx throws on purpose, one per class. */
export type OnnxErrorCode = 'ERR_ZIPLM_ONNX' | 'ERR_ZIPLM_ONNX_GRAPH' | 'ERR_ZIPLM_ONNX_DECODE' | 'ERR_ZIPLM_ONNX_RUNTIME_UNAVAILABLE';

/** Base class of every error @ziplm/onnx throws on purpose. */
export class OnnxError extends Error {
  override name = 'OnnxError';
  readonly code: OnnxErrorCode = 'ERR_ZIPLM_ONNX';
}

/** A graph under construction is inconsistent (unknown value, duplicate name, bad tensor data). */
export class OnnxGraphError extends OnnxError {
  override name = 'OnnxGraphError';
  override readonly code = 'ERR_ZIPLM_ONNX_GRAPH';
  constructor(
    /** The graph being built. */
    readonly graph: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`ONNX graph "${graph}": ${problem}`, options);
  }
}

/** Bytes given to the decoder are not a well-formed ONNX protobuf. */
export class OnnxDecodeError extends OnnxError {
  override name = 'OnnxDecodeError';
  override readonly code = 'ERR_ZIPLM_ONNX_DECODE';
  constructor(
    /** Where the bytes came from (a file name, or a description such as "model bytes"). */
    readonly source: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${problem}`, options);
  }
}

/** The optional peer dependency onnxruntime-node could not be loaded. */
export class OnnxRuntimeUnavailableError extends OnnxError {
  override name = 'OnnxRuntimeUnavailableError';
  override readonly code = 'ERR_ZIPLM_ONNX_RUNTIME_UNAVAILABLE';
  constructor(
    readonly problem: string,
    cause?: unknown,
  ) {
    // `cause` goes to Error itself (ES2022), so it is the standard own property Node prints.
    super(`@ziplm/onnx/runtime: ${problem}`, cause === undefined ? undefined : { cause });
  }
}
