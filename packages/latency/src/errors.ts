// Typed errors. A latency table is a user's file and a search target is a user's wish: both fail
// with an error that says which file / field / target and why, never with a crash deep in the DP.
// Each class has its own stable `code` (Node style): callers branch on `error.code`, never on the
// class name or the message.

/** The `code` of every error @ziplm/latency throws on purpose, one per class. */
export type LatencyErrorCode =
  | 'ERR_ZIPLM_LATENCY'
  | 'ERR_ZIPLM_LATENCY_TABLE'
  | 'ERR_ZIPLM_TABLE_MISMATCH'
  | 'ERR_ZIPLM_MISSING_LEVEL'
  | 'ERR_ZIPLM_SEARCH'
  | 'ERR_ZIPLM_UNREACHABLE'
  | 'ERR_ZIPLM_ENVIRONMENT'
  | 'ERR_ZIPLM_MEASUREMENT'
  | 'ERR_ZIPLM_LATENCY_PLAN';

/** Base class of every error @ziplm/latency throws on purpose. */
export class LatencyError extends Error {
  override name = 'LatencyError';
  readonly code: LatencyErrorCode = 'ERR_ZIPLM_LATENCY';
}

/** A latency table (file or in-memory object) is malformed: names the file (when known) and the field. */
export class LatencyTableError extends LatencyError {
  override name = 'LatencyTableError';
  // Its subclass narrows the code further.
  override readonly code: 'ERR_ZIPLM_LATENCY_TABLE' | 'ERR_ZIPLM_TABLE_MISMATCH' = 'ERR_ZIPLM_LATENCY_TABLE';
  constructor(
    /** Dotted path of the offending field, e.g. `ffn[3].time`; `(root)` for the whole document. */
    readonly field: string,
    readonly problem: string,
    /** The file the table came from, when it came from one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(`${file ? `${file}: ` : ''}latency table field "${field}" ${problem}`, options);
  }
}

/**
 * A well-formed table was measured for another model shape (hidden size, heads, FFN size, layers or
 * model type): its times do not describe this model, so using it would void the speedup guarantee.
 */
export class TableMismatchError extends LatencyTableError {
  override name = 'TableMismatchError';
  override readonly code = 'ERR_ZIPLM_TABLE_MISMATCH';
}

/** A module size that the latency table has no time for (the table's grid lacks that kept count). */
export class MissingLevelError extends LatencyError {
  override name = 'MissingLevelError';
  override readonly code = 'ERR_ZIPLM_MISSING_LEVEL';
  constructor(
    readonly module: 'attention' | 'ffn',
    readonly kept: number,
    /** The table's kept sizes for this module, descending. */
    readonly available: readonly number[],
    where = '',
  ) {
    const below = available.filter((k) => k < kept)[0];
    const above = [...available].reverse().find((k) => k > kept);
    super(
      `the latency table has no ${module} time for kept size ${kept}${where ? ` (${where})` : ''}; nearest table levels: ${[below, above].filter((k) => k !== undefined).join(', ') || 'none'}`,
    );
  }
}

/** The inputs of a search are inconsistent (a level missing from the table, a bad coefficient, …). */
export class SearchError extends LatencyError {
  override name = 'SearchError';
  // Its subclass narrows the code further.
  override readonly code: 'ERR_ZIPLM_SEARCH' | 'ERR_ZIPLM_UNREACHABLE' = 'ERR_ZIPLM_SEARCH';
}

/** No configuration reaches the target speedup under the table; names the best reachable speedup. */
export class InfeasibleTargetError extends SearchError {
  override name = 'InfeasibleTargetError';
  override readonly code = 'ERR_ZIPLM_UNREACHABLE';
  constructor(
    readonly target: number,
    /** The largest predicted speedup any allowed configuration reaches (every module at its smallest allowed level). */
    readonly maxSpeedup: number,
    detail = '',
  ) {
    super(
      `target speedup ${formatSpeedup(target)} is not reachable: the maximum predicted speedup under this latency table is ${formatSpeedup(maxSpeedup)}${detail ? ` (${detail})` : ''}`,
    );
  }
}

/** An inference environment description is invalid (threads, batch size, mode, …). */
export class EnvironmentError extends LatencyError {
  override name = 'EnvironmentError';
  override readonly code = 'ERR_ZIPLM_ENVIRONMENT';
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`inference environment field "${field}" ${problem}`, options);
  }
}

/** A measurement could not be taken (a session failed to load or run, no samples, …). */
export class MeasurementError extends LatencyError {
  override name = 'MeasurementError';
  override readonly code = 'ERR_ZIPLM_MEASUREMENT';
}

/**
 * A latency plan (the manifest of `ziplm latency --export-levels`, or one of its graphs) is malformed
 * or does not match its manifest: names the manifest or graph file and the problem. A plan may come
 * from anywhere a page fetches it, so nothing in it is trusted before this check.
 */
export class LatencyPlanError extends LatencyError {
  override name = 'LatencyPlanError';
  override readonly code = 'ERR_ZIPLM_LATENCY_PLAN';
  constructor(
    /** The manifest or graph file at fault. */
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

function formatSpeedup(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(3)}x` : String(x);
}
