// Typed errors of the pipeline. Each class has its own stable `code` (Node style): callers (the `ziplm`
// CLI maps codes to exit codes) branch on `error.code`, never on the class name or the message.

/** The `code` of every error @ziplm/pipeline throws on purpose, one per class. */
export type PipelineErrorCode =
  | 'ERR_ZIPLM_PIPELINE'
  | 'ERR_ZIPLM_RUN_DIRECTORY'
  | 'ERR_ZIPLM_RUN_LOCKED'
  | 'ERR_ZIPLM_TASK_DATA'
  | 'ERR_ZIPLM_OPTIONS'
  | 'ERR_ZIPLM_REPORT'
  | 'ERR_ZIPLM_REPORT_WRITE';

/** Base class of every error @ziplm/pipeline throws on purpose. */
export class PipelineError extends Error {
  override name = 'PipelineError';
  readonly code: PipelineErrorCode = 'ERR_ZIPLM_PIPELINE';
}

/** A run directory belongs to another model or setting, or its files are damaged. Names the directory. */
export class RunDirectoryError extends PipelineError {
  override name = 'RunDirectoryError';
  override readonly code = 'ERR_ZIPLM_RUN_DIRECTORY';
  constructor(
    readonly dir: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${dir}: ${problem}`, options);
  }
}

/**
 * Another live process holds the run directory's lock (`<run>/.lock`): two runs writing one directory
 * would mix their members and tables. Names the holder's process id and host; the run fails before
 * it reads or writes anything else.
 */
export class RunLockedError extends PipelineError {
  override name = 'RunLockedError';
  override readonly code = 'ERR_ZIPLM_RUN_LOCKED';
  constructor(
    readonly dir: string,
    readonly holder: { readonly pid: number; readonly host: string; readonly startedAt: string },
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${dir}: ${problem}`, options);
  }
}

/** A task's data is missing, empty or unusable. Names the file. */
export class TaskDataError extends PipelineError {
  override name = 'TaskDataError';
  override readonly code = 'ERR_ZIPLM_TASK_DATA';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/**
 * An option of a pipeline call is invalid (a count that is not a positive integer, an unknown method,
 * a setting the model cannot have). Names the option by its path in the call; a front end maps the
 * path to its own spelling (the `ziplm` CLI to its flag). Raised before anything is loaded or written,
 * so a run directory is never touched by it.
 */
export class OptionsError extends PipelineError {
  override name = 'OptionsError';
  override readonly code = 'ERR_ZIPLM_OPTIONS';
  constructor(
    /** The option's path in the call, e.g. `calibrationSamples` or `fineTune.trainSamples`. */
    readonly option: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`option ${option} ${problem}`, options);
  }
}
