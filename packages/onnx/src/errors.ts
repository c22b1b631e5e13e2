// Typed errors of @ziplm/onnx. Messages name what was being built or read and the problem.

/** Base class of every error @ziplm/onnx throws on purpose. */
export class OnnxError extends Error {
  override name = 'OnnxError';
}

/** A graph under construction is inconsistent (unknown value, duplicate name, bad tensor data). */
export class OnnxGraphError extends OnnxError {
  override name = 'OnnxGraphError';
  constructor(
    /** The graph being built. */
    readonly graph: string,
    readonly problem: string,
  ) {
    super(`ONNX graph "${graph}": ${problem}`);
  }
}

/** Bytes given to the decoder are not a well-formed ONNX protobuf. */
export class OnnxDecodeError extends OnnxError {
  override name = 'OnnxDecodeError';
  constructor(
    /** Where the bytes came from (a file name, or a description such as "model bytes"). */
    readonly source: string,
    readonly problem: string,
  ) {
    super(`${source}: ${problem}`);
  }
}

/** The optional peer dependency onnxruntime-node could not be loaded. */
export class OnnxRuntimeUnavailableError extends OnnxError {
  override name = 'OnnxRuntimeUnavailableError';
  constructor(
    readonly problem: string,
    override readonly cause?: unknown,
  ) {
    super(`@ziplm/onnx/runtime: ${problem}`);
  }
}
