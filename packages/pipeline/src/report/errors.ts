// Typed errors of the report. Results are read back from a user's run directory (`ziplm report`), so
// an inconsistent results.json must fail with the field and the problem, not with NaN in a plot.

import { PipelineError } from '../errors.js';

/** Run results that cannot be rendered: names the field (e.g. `members[3].layerHeads`) and why. */
export class ReportError extends PipelineError {
  override name = 'ReportError';
  override readonly code = 'ERR_ZIPLM_REPORT';
  constructor(
    /** Dotted path of the offending field; `(root)` for the whole document. */
    readonly field: string,
    readonly problem: string,
    /** The file the results came from, when the caller knows it (results.json). */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(`${file ? `${file}: ` : ''}run results field "${field}" ${problem}`, options);
  }
}

/** report.md or a plot could not be written into the run directory. Names the file. */
export class ReportWriteError extends PipelineError {
  override name = 'ReportWriteError';
  override readonly code = 'ERR_ZIPLM_REPORT_WRITE';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}
