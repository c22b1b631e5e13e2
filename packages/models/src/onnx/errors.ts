import { ModelsError } from '../errors.js';

/** An ONNX export was asked for something the model or checkpoint cannot give. */
export class OnnxExportError extends ModelsError {
  override name = 'OnnxExportError';
  override readonly code = 'ERR_ZIPLM_ONNX_EXPORT';
  constructor(
    /** The export that failed, e.g. `exportModelToOnnx (bert)`. */
    readonly what: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${what}: ${problem}`, options);
  }
}
