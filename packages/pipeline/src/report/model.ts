// What the report derives from RunResults before printing anything: a validity check, the series
// (one per method and variant, members ordered by target) and the per-member figures (kept shares,
// deviation, metric difference). Markdown and SVG both read from here, so they cannot disagree.

import { wilsonInterval } from '@ziplm/core';
import { DEFAULT_TOLERANCE } from '../defaults.js';
import type { CompressionMethod, MemberResult, MetricInfo, RunResults } from '../results.js';
import { parseRunResults } from '../schemas/results.js';
import { isPercentMetric } from './format.js';
import type { MarkerShape } from './svg.js';

/** The methods in the order the report lists them: ZipLM first, then the baselines. */
export const METHOD_ORDER: readonly CompressionMethod[] = ['ziplm', 'magnitude', 'uniform'];

/** Display name, colour and marker of each method (Okabe–Ito colours: distinguishable with colour-blindness). */
export const METHOD_STYLE: Readonly<Record<CompressionMethod, { name: string; color: string; marker: MarkerShape }>> = {
  ziplm: { name: 'ZipLM', color: '#0072B2', marker: 'circle' },
  magnitude: { name: 'Magnitude (L2, no update)', color: '#D55E00', marker: 'square' },
  uniform: { name: 'Uniform per layer', color: '#009E73', marker: 'triangle' },
};

/** Colours for variants of a method (the main setting keeps the method's colour); cycled. */
const VARIANT_COLORS = ['#E69F00', '#CC79A7', '#56B4E9', '#8C564B', '#7F7F7F', '#9467BD', '#BCBD22', '#17BECF'];

/** Why a member is flagged as degenerate: valid, but not a model anyone would ship. */
export type DegenerateReason = 'chance' | 'no-attention';

/** The marker of a degenerate member in report.md (its plot point gets a ring). */
export const DEGENERATE_MARK = '⚠';

/**
 * The 95% interval of a metric value, in the metric's units, when the metric is a share of items
 * (accuracy or agreement in %) and the run recorded how many items it was measured on: the Wilson
 * score interval (@ziplm/core) of round(value · items / 100) successes. Undefined otherwise
 * (perplexity and F1 are not proportions of items; older results have no item count).
 */
export function metricInterval(metric: MetricInfo, value: number | undefined | null): [number, number] | undefined {
  if (!hasMetricInterval(metric) || typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  const items = metric.items!;
  const successes = Math.min(items, Math.max(0, Math.round((value / 100) * items)));
  const [low, high] = wilsonInterval(successes, items);
  return [100 * low, 100 * high];
}

/** Whether the report can put a 95% interval on this metric (see {@link metricInterval}). */
export function hasMetricInterval(metric: MetricInfo): boolean {
  return (
    (metric.name === 'accuracy' || metric.name === 'agreement') &&
    isPercentMetric(metric) &&
    typeof metric.items === 'number' &&
    Number.isInteger(metric.items) &&
    metric.items > 0
  );
}

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
  /**
   * True when the member is faster than asked by more than the tolerance (deviation > tolerance):
   * it passes, but it was pruned more than the target needed, so it gave up accuracy for nothing.
   */
  readonly overshoot: boolean;
  /** 95% interval of the metric (see {@link metricInterval}). */
  readonly metricInterval: readonly [number, number] | undefined;
  /** Why the member is degenerate (empty when it is not). */
  readonly degenerate: readonly DegenerateReason[];
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
  readonly method: CompressionMethod;
  readonly variant: string | undefined;
  /** e.g. 'ZipLM' or 'ZipLM (no token distillation)'. */
  readonly label: string;
  readonly color: string;
  readonly marker: MarkerShape;
  readonly dash: string | undefined;
  readonly members: readonly MemberView[];
}

/**
 * Checks that `results` can be rendered: the results.json schema (speedups and times finite and
 * positive, methods known, optional values such as the measured speedup or the metric absent or
 * numbers) and per-layer sizes that match the model.
 * @throws {ReportError} naming the first offending field.
 */
export function checkRunResults(results: unknown): void {
  parseRunResults(results);
}

const finite = (v: number | undefined | null): v is number => typeof v === 'number' && Number.isFinite(v);
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Why a member is degenerate: its metric is at chance level (its 95% interval reaches the metric of a
 * constant predictor, `metric.chance`; without an interval, the metric is at or below it), or every
 * layer lost its attention (a [CLS] or last token that attends to nothing carries no context). A member
 * without any FFN is not flagged: attention alone can carry a task (the word-order testbed loses 0.5
 * points without its FFNs), and its accuracy says whether it did.
 */
export function degenerateReasons(
  metric: MetricInfo,
  member: MemberResult,
  interval: readonly [number, number] | undefined,
): DegenerateReason[] {
  const reasons: DegenerateReason[] = [];
  const chance = metric.chance;
  if (typeof chance === 'number' && Number.isFinite(chance) && finite(member.metric)) {
    const atChance = interval !== undefined ? interval[0] <= chance : member.metric <= chance;
    if (atChance) reasons.push('chance');
  }
  if (member.layerHeads.length > 0 && member.layerHeads.every((h) => h === 0)) reasons.push('no-attention');
  return reasons;
}

/** Per-member figures (see {@link MemberView}). */
export function memberView(results: RunResults, member: MemberResult, index: number): MemberView {
  const { numLayers, numHeads, intermediateSize } = results.model;
  const measured = finite(member.measuredSpeedup) ? member.measuredSpeedup : undefined;
  const deviation = finite(member.deviation) ? member.deviation : measured !== undefined ? measured / member.target - 1 : undefined;
  const plottableMetric = finite(member.metric) ? member.metric : undefined;
  const denseMetric = finite(results.dense.metric) ? results.dense.metric : undefined;
  const interval = metricInterval(results.metric, plottableMetric);
  return {
    member,
    index,
    speedup: measured ?? member.predictedSpeedup,
    speedupMeasured: measured !== undefined,
    deviation,
    overshoot: deviation !== undefined && deviation > DEFAULT_TOLERANCE,
    metricInterval: interval,
    degenerate: degenerateReasons(results.metric, member, interval),
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
export function seriesLabel(method: CompressionMethod, variant: string | undefined): string {
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

/** The dense model's family name (results written before `family` was recorded say only bert or gpt2). */
export function modelFamily(results: RunResults): string {
  const m = results.model;
  return m.family ?? (m.modelType === 'bert' ? 'BERT' : 'GPT2');
}
