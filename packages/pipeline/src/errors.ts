// Typed errors of the pipeline. The CLI maps them to exit codes by name (packages/cli/src/main.ts).

export class PipelineError extends Error {
  override name = 'PipelineError';
}

/** A run directory belongs to another model or setting, or its files are damaged. Names the directory. */
export class RunDirectoryError extends PipelineError {
  override name = 'RunDirectoryError';
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super(`${dir}: ${problem}`);
  }
}

/** A task's data is missing, empty or unusable. Names the file. */
export class TaskDataError extends PipelineError {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * An option of a pipeline call is invalid (a count that is not a positive integer, an unknown method,
 * a setting the model cannot have). Names the option and, for options the `ziplm` CLI exposes, its
 * flag. Raised before anything is loaded or written, so a run directory is never touched by it.
 */
export class OptionsError extends PipelineError {
  override name = 'OptionsError';
  constructor(
    /** The option's path in the call, e.g. `calibrationSamples` or `fineTune.trainSamples`. */
    readonly option: string,
    readonly problem: string,
    /** The `ziplm` flag that sets it, e.g. `--train-samples`. */
    readonly flag?: string,
  ) {
    super(`${flag ? `${flag} (option ${option})` : `option ${option}`} ${problem}`);
  }
}
