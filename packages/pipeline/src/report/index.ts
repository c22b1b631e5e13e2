// The run report: report.md with the accuracy-vs-speedup table and two SVG plots (issue 6).
// `renderReport` is pure; `writeReport` is the only function that touches the file system.

export type { RenderedReport, ReportInputs } from './report.js';
export { REPORT_MD, renderReport } from './report.js';
export { readReportInputs, writeReport } from './write.js';
export { ACCURACY_SVG, LATENCY_SVG, STRUCTURE_SVG } from './plots.js';
export { checkRunResults } from './model.js';
export { ReportError, ReportWriteError } from './errors.js';
export {
  MISSING,
  formatAbsDeviation,
  formatBytes,
  formatDeviation,
  formatMetric,
  formatMetricDelta,
  formatMillions,
  formatMs,
  formatShare,
  formatSpeedup,
  escapeMarkdown,
} from './format.js';
