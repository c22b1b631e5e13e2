// Typed errors of @ziplm/distill. Errors about a file (a training checkpoint, a dataset) name the file and the
// problem; errors about tensors name the argument and the shapes involved, so a mismatch never surfaces as an
// opaque tfjs broadcast error deep inside a training step.

/** Base class of every error @ziplm/distill throws on purpose. */
export class DistillError extends Error {
  override name = 'DistillError';
}

/** Tensors passed to a loss have incompatible shapes or dtypes. */
export class LossShapeError extends DistillError {
  override name = 'LossShapeError';
  constructor(
    /** The loss function that rejected its input, e.g. `tokenDistillationLoss`. */
    readonly loss: string,
    readonly problem: string,
  ) {
    super(`${loss}: ${problem}`);
  }
}

/** Training options are inconsistent (e.g. a distillation weight without a teacher). */
export class TrainingConfigError extends DistillError {
  override name = 'TrainingConfigError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`training option "${option}" ${problem}`);
  }
}

/** A training checkpoint (trainer state, optimizer moments) is missing, malformed or does not match the run. */
export class TrainingStateError extends DistillError {
  override name = 'TrainingStateError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
