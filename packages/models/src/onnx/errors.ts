import { ZiplmModelError } from '../errors.js';

/** An ONNX export was asked for something the model or checkpoint cannot give. */
export class OnnxExportError extends ZiplmModelError {
  override name = 'OnnxExportError';
  constructor(
    /** The export that failed, e.g. `exportModelToOnnx (bert)`. */
    readonly what: string,
    readonly problem: string,
  ) {
    super(`${what}: ${problem}`);
  }
}
