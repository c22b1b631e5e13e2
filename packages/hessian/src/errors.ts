// Typed errors. Each names what was wrong (and the file, for database errors) so a bad shape or a
// corrupt database never surfaces as a NaN deep inside a sweep. Each class has its own stable `code`
// (Node style): callers branch on `error.code`, never on the class name or the message.

/** The `code` of every error @ziplm/hessian throws on purpose, one per class. */
export type HessianErrorCode =
  | 'ERR_ZIPLM_HESSIAN'
  | 'ERR_ZIPLM_SHAPE'
  | 'ERR_ZIPLM_LEVEL'
  | 'ERR_ZIPLM_CALIBRATION'
  | 'ERR_ZIPLM_NOT_POSITIVE_DEFINITE'
  | 'ERR_ZIPLM_DATABASE'
  | 'ERR_ZIPLM_NUMERICAL';

/** Base class of every error @ziplm/hessian throws on purpose (thrown as is for misuse of the API). */
export class HessianError extends Error {
  override name = 'HessianError';
  readonly code: HessianErrorCode = 'ERR_ZIPLM_HESSIAN';
}

/** Array lengths or dimensions do not fit (e.g. columns not divisible by the group size). */
export class ShapeError extends HessianError {
  override name = 'ShapeError';
  override readonly code = 'ERR_ZIPLM_SHAPE';
}

/** Requested levels are out of range, not integers, or otherwise unusable. */
export class LevelError extends HessianError {
  override name = 'LevelError';
  override readonly code = 'ERR_ZIPLM_LEVEL';
}

/** No calibration tokens were accumulated (empty batches, or every token masked out). */
export class CalibrationError extends HessianError {
  override name = 'CalibrationError';
  override readonly code = 'ERR_ZIPLM_CALIBRATION';
}

/** H stayed non positive definite after every damping escalation step, or holds NaN/Infinity. */
export class NotPositiveDefiniteError extends HessianError {
  override name = 'NotPositiveDefiniteError';
  override readonly code = 'ERR_ZIPLM_NOT_POSITIVE_DEFINITE';
  constructor(
    message: string,
    /** Relative dampings (fractions of the mean diagonal) that were tried, in order. */
    readonly triedRelativeDampings: readonly number[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A level-database file is missing, malformed, truncated or was built with a different spec. */
export class DatabaseError extends HessianError {
  override name = 'DatabaseError';
  override readonly code = 'ERR_ZIPLM_DATABASE';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** Inputs hold NaN/Infinity, or the arithmetic broke down (e.g. a non-positive diagonal of H⁻¹). */
export class NumericalError extends HessianError {
  override name = 'NumericalError';
  override readonly code = 'ERR_ZIPLM_NUMERICAL';
}
