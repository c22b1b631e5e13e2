// What the report derives from RunResults before printing anything: a validity check, the series
// (one per method and variant, members ordered by target) and the per-member figures (kept shares,
// deviation, metric difference). Markdown and SVG both read from here, so they cannot disagree.

import { verificationProblem, type MemberResult, type PruningMethod, type RunResults } from '../results.js';
import { ReportError } from './errors.js';
import type { MarkerShape } from './svg.js';

/** The methods in the order the report lists them: ZipLM first, then the baselines. */
export const METHOD_ORDER: readonly PruningMethod[] = ['ziplm', 'magnitude', 'uniform'];

/** Display name, colour and marker of each method (Okabe–Ito colours: distinguishable with colour-blindness). */
export const METHOD_STYLE: Readonly<Record<PruningMethod, { name: string; color: string; marker: MarkerShape }>> = {
  ziplm: { name: 'ZipLM', color: '#0072B2', marker: 'circle' },
  magnitude: { name: 'Magnitude (L2, no update)', color: '#D55E00', marker: 'square' },
  uniform: { name: 'Uniform per layer', color: '#009E73', marker: 'triangle' },
};

/** Colours for variants of a method (the main setting keeps the method's colour); cycled. */
const VARIANT_COLORS = ['#E69F00', '#CC79A7', '#56B4E9', '#8C564B', '#7F7F7F', '#9467BD', '#BCBD22', '#17BECF'];

/** One member with everything the report prints about it. */
export interface MemberView {
  readonly member: MemberResult;
  /** Index in `results.members` (stable tie-break, error messages). */
  readonly index: number;
  /** Measured speedup when verified, else the predicted one. */
  readonly speedup: number;
  readonly speedupMeasured: boolean;
  /** `member.deviation`, or measured / target − 1 when only the measured speedup was stored. */
  readonly deviation: number | undefined;
  /** measured / predicted − 1 (the verification's own figure when stored); undefined when not measured. */
  readonly predictionError: number | undefined;
  /** member − dense metric; undefined unless both are finite numbers. */
  readonly metricDelta: number | undefined;
  /** The metric when it is a finite number (plottable). */
  readonly plottableMetric: number | undefined;
  readonly headsKept: number;
  readonly headsTotal: number;
  readonly ffnKept: number;
  readonly ffnTotal: number;
  /** Layers whose attention module was removed entirely (0 heads). */
  readonly attentionRemoved: number;
  /** Layers whose FFN module was removed entirely (0 neurons). */
  readonly ffnRemoved: number;
}

/** The members of one method and variant, ordered by target. */
export interface SeriesView {
  readonly method: PruningMethod;
  readonly variant: string | undefined;
  /** e.g. 'ZipLM' or 'ZipLM (no token distillation)'. */
  readonly label: string;
  readonly color: string;
  readonly marker: MarkerShape;
  readonly dash: string | undefined;
  readonly members: readonly MemberView[];
}

function fail(field: string, problem: string): never {
  throw new ReportError(field, problem);
}

function checkPositive(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(field, `must be a finite number > 0 (got ${JSON.stringify(value)})`);
  }
}

function checkCount(value: unknown, field: string, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(field, `must be an integer >= ${min} (got ${JSON.stringify(value)})`);
  }
}

/** An optional number: absent (undefined or JSON null) or any number; NaN/∞ are shown as such. */
function checkOptionalNumber(value: unknown, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'number') {
    fail(field, `must be a number when present (got ${JSON.stringify(value)})`);
  }
}

function checkShape(values: unknown, field: string, layers: number, dense: number): void {
  if (!Array.isArray(values)) fail(field, 'must be an array');
  if (values.length !== layers) fail(field, `has ${values.length} entries, the model has ${layers} layers`);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > dense) {
      fail(`${field}[${i}]`, `must be an integer in [0, ${dense}] (got ${JSON.stringify(v)})`);
    }
  });
}

/**
 * Checks that `results` can be rendered: shapes match the model, speedups and times are finite and
 * positive, methods are known. Optional values (measured speedup, metric) may be absent.
 * @throws {ReportError} naming the first offending field.
 */
export function checkRunResults(results: RunResults): void {
  if (results === null || typeof results !== 'object') fail('(root)', 'must be an object');
  if (results.format !== 'ziplm-run-results') fail('format', `must be "ziplm-run-results" (got ${JSON.stringify(results.format)})`);
  if (results.version !== 1) fail('version', `must be 1 (got ${JSON.stringify(results.version)})`);
  if (results.mode !== 'oneshot' && results.mode !== 'gradual') fail('mode', `must be "oneshot" or "gradual" (got ${JSON.stringify(results.mode)})`);
  if (typeof results.task !== 'string') fail('task', 'must be a string');
  if (typeof results.environment !== 'string') fail('environment', 'must be a string');
  const metric = results.metric as unknown as Record<string, unknown> | undefined;
  if (metric === null || typeof metric !== 'object') fail('metric', 'must be an object');
  if (typeof metric.name !== 'string') fail('metric.name', 'must be a string');
  if (typeof metric.label !== 'string') fail('metric.label', 'must be a string');
  if (typeof metric.higherIsBetter !== 'boolean') fail('metric.higherIsBetter', 'must be a boolean');
  const model = results.model;
  if (model === null || typeof model !== 'object') fail('model', 'must be an object');
  if (model.modelType !== 'bert' && model.modelType !== 'gpt2') fail('model.modelType', `must be "bert" or "gpt2" (got ${JSON.stringify(model.modelType)})`);
  checkCount(model.numLayers, 'model.numLayers', 1);
  checkCount(model.hiddenSize, 'model.hiddenSize', 1);
  checkCount(model.numHeads, 'model.numHeads', 1);
  checkCount(model.intermediateSize, 'model.intermediateSize', 1);
  checkCount(model.layerParameters, 'model.layerParameters', 0);
  if (results.dense === null || typeof results.dense !== 'object') fail('dense', 'must be an object');
  checkPositive(results.dense.timeMs, 'dense.timeMs');
  checkOptionalNumber(results.dense.metric, 'dense.metric');
  if (!Array.isArray(results.members)) fail('members', 'must be an array');
  results.members.forEach((m, i) => {
    const at = `members[${i}]`;
    if (!METHOD_ORDER.includes(m.method)) fail(`${at}.method`, `must be one of ${METHOD_ORDER.join(', ')} (got ${JSON.stringify(m.method)})`);
    if (m.variant !== undefined && m.variant !== null && typeof m.variant !== 'string') fail(`${at}.variant`, 'must be a string when present');
    checkPositive(m.target, `${at}.target`);
    checkPositive(m.predictedSpeedup, `${at}.predictedSpeedup`);
    if (m.measuredSpeedup !== undefined && m.measuredSpeedup !== null) checkPositive(m.measuredSpeedup, `${at}.measuredSpeedup`);
    checkOptionalNumber(m.deviation, `${at}.deviation`);
    checkOptionalNumber(m.metric, `${at}.metric`);
    checkOptionalNumber(m.searchError, `${at}.searchError`);
    if (m.status !== undefined && m.status !== null && m.status !== 'pass' && m.status !== 'fail') {
      fail(`${at}.status`, `must be "pass" or "fail" when present (got ${JSON.stringify(m.status)})`);
    }
    const verification = verificationProblem(m.verification);
    if (verification) fail(`${at}.verification${verification.field}`, verification.problem);
    checkShape(m.layerHeads, `${at}.layerHeads`, model.numLayers, model.numHeads);
    checkShape(m.layerIntermediate, `${at}.layerIntermediate`, model.numLayers, model.intermediateSize);
    checkCount(m.layerParameters, `${at}.layerParameters`, 0);
    if (typeof m.dir !== 'string') fail(`${at}.dir`, 'must be a string');
  });
  if (!Array.isArray(results.notes) || results.notes.some((n) => typeof n !== 'string')) fail('notes', 'must be an array of strings');
}

const finite = (v: number | undefined | null): v is number => typeof v === 'number' && Number.isFinite(v);
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Per-member figures (see {@link MemberView}). */
export function memberView(results: RunResults, member: MemberResult, index: number): MemberView {
  const { numLayers, numHeads, intermediateSize } = results.model;
  const measured = finite(member.measuredSpeedup) ? member.measuredSpeedup : undefined;
  const deviation = finite(member.deviation)
    ? member.deviation
    : measured !== undefined
      ? measured / member.target - 1
      : undefined;
  const plottableMetric = finite(member.metric) ? member.metric : undefined;
  const denseMetric = finite(results.dense.metric) ? results.dense.metric : undefined;
  return {
    member,
    index,
    speedup: measured ?? member.predictedSpeedup,
    speedupMeasured: measured !== undefined,
    deviation,
    predictionError: finite(member.verification?.predictionError)
      ? member.verification.predictionError
      : measured !== undefined
        ? measured / member.predictedSpeedup - 1
        : undefined,
    metricDelta: plottableMetric !== undefined && denseMetric !== undefined ? plottableMetric - denseMetric : undefined,
    plottableMetric,
    headsKept: sum(member.layerHeads),
    headsTotal: numLayers * numHeads,
    ffnKept: sum(member.layerIntermediate),
    ffnTotal: numLayers * intermediateSize,
    attentionRemoved: member.layerHeads.filter((h) => h === 0).length,
    ffnRemoved: member.layerIntermediate.filter((n) => n === 0).length,
  };
}

/** A series' display name: the method, and the variant in parentheses. */
export function seriesLabel(method: PruningMethod, variant: string | undefined): string {
  const name = METHOD_STYLE[method].name;
  return variant === undefined ? name : `${name} (${variant})`;
}

/**
 * Groups members into series: methods in {@link METHOD_ORDER}, the main setting before variants,
 * variants in order of first appearance, members by ascending target (ties keep input order).
 */
export function groupSeries(results: RunResults): SeriesView[] {
  const views = results.members.map((m, i) => memberView(results, m, i));
  const series: SeriesView[] = [];
  let variantColor = 0;
  for (const method of METHOD_ORDER) {
    const ofMethod = views.filter((v) => v.member.method === method);
    // The main setting first, then variants as they first appear. (Not Array.sort: it moves
    // undefined to the end without asking the comparator.)
    const named: string[] = [];
    for (const v of ofMethod) {
      const variant = v.member.variant ?? undefined;
      if (variant !== undefined && !named.includes(variant)) named.push(variant);
    }
    const hasMain = ofMethod.some((v) => (v.member.variant ?? undefined) === undefined);
    const variants: (string | undefined)[] = hasMain ? [undefined, ...named] : named;
    for (const variant of variants) {
      const members = ofMethod
        .filter((v) => (v.member.variant ?? undefined) === variant)
        .sort((a, b) => a.member.target - b.member.target || a.index - b.index);
      const style = METHOD_STYLE[method];
      const color = variant === undefined ? style.color : VARIANT_COLORS[variantColor++ % VARIANT_COLORS.length]!;
      series.push({
        method,
        variant,
        label: seriesLabel(method, variant),
        color,
        marker: style.marker,
        dash: variant === undefined ? undefined : '6 3',
        members,
      });
    }
  }
  return series;
}
