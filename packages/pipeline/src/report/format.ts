// Number and text formatting shared by report.md and the plots. One place decides how a speedup, a
// deviation or a metric is printed, so the table and the plot tooltips always agree.

import type { MetricInfo } from '../results.js';

/** What a missing value (verification or evaluation skipped) prints as. */
export const MISSING = '—';

function isMissing(value: number | undefined | null): value is undefined | null {
  return value === undefined || value === null;
}

/** Non-finite values print as themselves (a diverged perplexity is `∞`), never as a number. */
function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '∞';
  if (value === -Infinity) return '−∞';
  return undefined;
}

/** `toFixed` that never prints "-0.00" for a value that rounds to zero. */
function fixed(value: number, decimals: number): string {
  const s = value.toFixed(decimals);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A speedup: 2 decimals and "×", e.g. `3.98×`. */
export function formatSpeedup(value: number | undefined | null): string {
  if (isMissing(value)) return MISSING;
  return nonFinite(value) ?? `${fixed(value, 2)}×`;
}

/** A relative deviation (0.0125 = 1.25%) as a signed percentage with 2 decimals, e.g. `+1.25%`, `-1.00%`. */
export function formatDeviation(value: number | undefined | null): string {
  if (isMissing(value)) return MISSING;
  const bad = nonFinite(value);
  if (bad !== undefined) return bad;
  const s = fixed(value * 100, 2);
  return `${s.startsWith('-') || s === '0.00' ? s : `+${s}`}%`;
}

/**
 * Whether the metric is a percentage (one decimal is enough: 0.1 point on a dev set of ~900 sentences
 * is a single example). Decided by the label, e.g. 'SST-2 dev accuracy (%)'; values are printed as
 * given, never rescaled.
 */
export function isPercentMetric(metric: MetricInfo): boolean {
  return metric.label.includes('%');
}

/** Decimals for a metric: 1 for percentages, 2 otherwise (perplexity, F1 as a fraction, …). */
export function metricDecimals(metric: MetricInfo): number {
  return isPercentMetric(metric) ? 1 : 2;
}

/** A metric value with its decimals. */
export function formatMetric(value: number | undefined | null, metric: MetricInfo): string {
  if (isMissing(value)) return MISSING;
  return nonFinite(value) ?? fixed(value, metricDecimals(metric));
}

/** A signed metric difference (member − dense), e.g. `-1.3` or `+0.42`. */
export function formatMetricDelta(value: number | undefined | null, metric: MetricInfo): string {
  if (isMissing(value)) return MISSING;
  const bad = nonFinite(value);
  if (bad !== undefined) return bad;
  const s = fixed(value, metricDecimals(metric));
  return s.startsWith('-') || Number(s) === 0 ? s : `+${s}`;
}

/** An interval of metric values, e.g. `77.7–83.0` (en dash, the metric's decimals). */
export function formatInterval(interval: readonly [number, number] | undefined, metric: MetricInfo): string {
  if (interval === undefined) return MISSING;
  return `${formatMetric(interval[0], metric)}–${formatMetric(interval[1], metric)}`;
}

/** A metric value with its 95% interval when there is one, e.g. `80.5 (77.7–83.0)`. */
export function formatMetricWithInterval(
  value: number | undefined | null,
  interval: readonly [number, number] | undefined,
  metric: MetricInfo,
): string {
  const shown = formatMetric(value, metric);
  return interval === undefined ? shown : `${shown} (${formatInterval(interval, metric)})`;
}

/**
 * |deviation| with its direction, e.g. `3.12% over`, `1.00% under`: the paper's Table 5 counts
 * |measured / target − 1|, so a member faster than asked is as far off as one slower than asked.
 */
export function formatAbsDeviation(value: number | undefined | null): string {
  if (isMissing(value)) return MISSING;
  const bad = nonFinite(value);
  if (bad !== undefined) return bad;
  const magnitude = formatDeviation(Math.abs(value)).replace(/^\+/, '');
  return magnitude === '0.00%' ? magnitude : `${magnitude} ${value > 0 ? 'over' : 'under'}`;
}

/** A file size in decimal units with 3 significant digits, e.g. `412 kB`, `1.23 MB`. */
export function formatBytes(bytes: number | undefined | null): string {
  if (isMissing(bytes)) return MISSING;
  const bad = nonFinite(bytes);
  if (bad !== undefined) return bad;
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${fixed(value, 0)} B`;
  return `${fixed(value, Math.abs(value) >= 99.95 ? 0 : Math.abs(value) >= 9.995 ? 1 : 2)} ${units[unit]}`;
}

/** A share in [0, 1] as a percentage with 1 decimal, e.g. `38.5%`. */
export function formatShare(value: number | undefined | null): string {
  if (isMissing(value)) return MISSING;
  return nonFinite(value) ?? `${fixed(value * 100, 1)}%`;
}

/** A parameter count in millions: 2 decimals from 1M up, 3 below (tiny test models). */
export function formatMillions(count: number | undefined | null): string {
  if (isMissing(count)) return MISSING;
  const bad = nonFinite(count);
  if (bad !== undefined) return bad;
  const m = count / 1e6;
  return fixed(m, Math.abs(m) >= 1 ? 2 : 3);
}

/** A time in milliseconds with precision that suits its size, e.g. `27.31 ms`, `0.412 ms`. */
export function formatMs(ms: number | undefined | null): string {
  if (isMissing(ms)) return MISSING;
  const bad = nonFinite(ms);
  if (bad !== undefined) return bad;
  const decimals = Math.abs(ms) >= 100 ? 1 : Math.abs(ms) >= 1 ? 2 : 3;
  return `${fixed(ms, decimals)} ms`;
}

/**
 * Escapes user-supplied text (task names, variants, notes, the environment line) for inline Markdown:
 * it must not open emphasis, links, code or HTML, must not split a table cell (`|`) and must not turn
 * a line into a heading, list item or quote. Newlines become spaces (a newline ends a table row).
 */
export function escapeMarkdown(input: string): string {
  let s = input.replace(/\r\n?|\n/g, ' ');
  s = s.replace(/[\\`*_[\]|~]/g, (ch) => `\\${ch}`);
  s = s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // Block-level markers only matter at the start of a line.
  s = s.replace(/^(\s*)([#+=-])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
  return s;
}
