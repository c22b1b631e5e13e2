// Typed errors of @ziplm/distill. Errors about a file (a training checkpoint, a dataset) name the file and the
// problem; errors about tensors name the argument and the shapes involved, so a mismatch never surfaces as an
// opaque tfjs broadcast error deep inside a training step. Each class has its own stable `code` (Node style):
// callers branch on `error.code`, never on the class name or the message.

/** The `code` of every error @ziplm/distill throws on purpose, one per class. */
export type DistillErrorCode =
  | 'ERR_ZIPLM_DISTILL'
  | 'ERR_ZIPLM_LOSS_SHAPE'
  | 'ERR_ZIPLM_TRAINING_CONFIG'
  | 'ERR_ZIPLM_TRAINING_STATE'
  | 'ERR_ZIPLM_TRAINING_STOPPED';

/** Base class of every error @ziplm/distill throws on purpose. */
export class DistillError extends Error {
  override name = 'DistillError';
  readonly code: DistillErrorCode = 'ERR_ZIPLM_DISTILL';
}

/** Tensors passed to a loss have incompatible shapes or dtypes. */
export class LossShapeError extends DistillError {
  override name = 'LossShapeError';
  override readonly code = 'ERR_ZIPLM_LOSS_SHAPE';
  constructor(
    /** The loss function that rejected its input, e.g. `tokenDistillationLoss`. */
    readonly loss: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${loss}: ${problem}`, options);
  }
}

/** Training options are inconsistent (e.g. a distillation weight without a teacher). */
export class TrainingConfigError extends DistillError {
  override name = 'TrainingConfigError';
  override readonly code = 'ERR_ZIPLM_TRAINING_CONFIG';
  constructor(
    readonly option: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`training option "${option}" ${problem}`, options);
  }
}

/** A training checkpoint (trainer state, optimizer moments) is missing, malformed or does not match the run. */
export class TrainingStateError extends DistillError {
  override name = 'TrainingStateError';
  override readonly code = 'ERR_ZIPLM_TRAINING_STATE';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/**
 * A recipe's training was stopped by its abort signal (Ctrl-C, SIGTERM) before it finished: the resumable state
 * is in `workDir` and no model was written. Running the same command again resumes where it stopped.
 */
export class TrainingStoppedError extends DistillError {
  override name = 'TrainingStoppedError';
  override readonly code = 'ERR_ZIPLM_TRAINING_STOPPED';
  constructor(
    /** The training state directory a rerun resumes from. */
    readonly workDir: string,
    /** Updates done when it stopped; undefined when it stopped before training started (while preparing the data). */
    readonly step?: number,
    readonly totalSteps?: number,
    options?: ErrorOptions,
  ) {
    super(
      step !== undefined && step > 0
        ? `stopped at step ${step} of ${totalSteps}: state saved in ${workDir}; run the same command again to resume`
        : `stopped before this session's first update: the state in ${workDir} (if any) is as it was; run the same command again to resume`,
      options,
    );
  }
}
