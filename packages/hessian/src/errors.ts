// Typed errors. Each names what was wrong (and the file, for database errors) so a bad shape or a
// corrupt database never surfaces as a NaN deep inside a sweep.

/** Base class of every error @ziplm/hessian throws on purpose. */
export class HessianError extends Error {
  override name = 'HessianError';
}

/** Array lengths or dimensions do not fit (e.g. columns not divisible by the group size). */
export class ShapeError extends HessianError {
  override name = 'ShapeError';
}

/** Requested levels are out of range, not integers, or otherwise unusable. */
export class LevelError extends HessianError {
  override name = 'LevelError';
}

/** No calibration tokens were accumulated (empty batches, or every token masked out). */
export class CalibrationError extends HessianError {
  override name = 'CalibrationError';
}

/** H stayed non positive definite after every damping escalation step, or holds NaN/Infinity. */
export class NotPositiveDefiniteError extends HessianError {
  override name = 'NotPositiveDefiniteError';
  constructor(
    message: string,
    /** Relative dampings (fractions of the mean diagonal) that were tried, in order. */
    readonly triedRelativeDampings: readonly number[],
  ) {
    super(message);
  }
}

/** A level-database file is missing, malformed, truncated or was built with a different spec. */
export class DatabaseError extends HessianError {
  override name = 'DatabaseError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** Inputs hold NaN/Infinity, or the arithmetic broke down (e.g. a non-positive diagonal of H⁻¹). */
export class NumericalError extends HessianError {
  override name = 'NumericalError';
}
