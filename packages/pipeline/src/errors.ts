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
