// @ziplm/pipeline: the ZipLM pipeline as a library (the `ziplm` CLI is a thin layer over it).
export * from './errors.js';
export * from './results.js';
export * from './tasks.js';
export * from './calibrate.js';
export * from './database.js';
export * from './stitch.js';
export * from './members.js';
export * from './run-dir.js';
export * from './latency.js';
export * from './run.js';
export * from './oneshot.js';
export * from './stats.js';
export * from './report-io.js';
export { renderReport, writeReport, checkRunResults, ReportError, ReportWriteError, REPORT_MD, ACCURACY_SVG, STRUCTURE_SVG } from './report/index.js';
export * from './gradual.js';
