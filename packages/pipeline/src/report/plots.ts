// The two plots of report.md:
// - accuracy-vs-speedup.svg: the task metric against the speedup over the dense model, one line per
//   method and variant (ZipLM and the baselines), the dense model at 1×;
// - structure.svg: kept attention heads and FFN neurons per layer for each ZipLM target, like the
//   paper's Figures 6 and 8 (guide/paper.md, Appendix E).

import type { RunResults } from '../results.js';
import { formatMetric, formatSpeedup } from './format.js';
import type { MemberView, SeriesView } from './model.js';
import {
  AXIS,
  INK,
  LEGEND_ROW,
  type LegendEntry,
  type PlotSeries,
  type Ticks,
  niceTicks,
  renderLegend,
  renderPanel,
  svgDocument,
  text,
} from './svg.js';

/** File names of the plots inside the run directory (report.md links them relatively). */
export const ACCURACY_SVG = 'accuracy-vs-speedup.svg';
export const STRUCTURE_SVG = 'structure.svg';

const WIDTH = 880;
const PLOT_LEFT = 84;
const PLOT_WIDTH = 470;
const LEGEND_LEFT = PLOT_LEFT + PLOT_WIDTH + 24;
const LEGEND_WIDTH = WIDTH - LEGEND_LEFT - 12;
const DENSE_COLOR = '#000000';

function modeName(mode: RunResults['mode']): string {
  return mode === 'oneshot' ? 'one-shot' : 'gradual';
}

/** The metric axis label, with the direction (perplexity: lower is better). */
export function metricAxisLabel(results: RunResults): string {
  return `${results.metric.label}, ${results.metric.higherIsBetter ? 'higher' : 'lower'} is better`;
}

/**
 * Metric (y) against speedup (x). The x value is the measured speedup; a member that was not re-timed
 * is drawn at its predicted speedup with a hollow marker, and the legend says so. Members without a
 * (finite) metric cannot be placed and are left out; report.md lists them.
 */
export function renderAccuracyPlot(results: RunResults, series: readonly SeriesView[]): string {
  const metric = results.metric;
  const denseMetric = Number.isFinite(results.dense.metric) ? results.dense.metric : undefined;
  const plotted: PlotSeries[] = series.map((s) => ({
    label: s.label,
    color: s.color,
    marker: s.marker,
    dash: s.dash,
    points: s.members
      .filter((v) => v.plottableMetric !== undefined)
      .map((v) => ({
        x: v.speedup,
        y: v.plottableMetric!,
        hollow: !v.speedupMeasured,
        label:
          `${s.label}: target ${formatSpeedup(v.member.target)}, ` +
          `${v.speedupMeasured ? 'measured' : 'predicted (not measured)'} ${formatSpeedup(v.speedup)}, ` +
          `${metric.name} ${formatMetric(v.plottableMetric, metric)}`,
      })),
  }));
  const points = plotted.flatMap((s) => s.points);
  const anyHollow = points.some((p) => p.hollow);

  const xs = [1, ...points.map((p) => p.x)];
  const ys = [...points.map((p) => p.y), ...(denseMetric === undefined ? [] : [denseMetric])];
  const xTicks = niceTicks(...padded(xs), 7);
  const yTicks = ys.length === 0 ? niceTicks(0, 1, 5) : niceTicks(...padded(ys), 6);

  const legend: LegendEntry[] = [];
  if (denseMetric !== undefined) {
    legend.push({ label: `dense model (1×): ${formatMetric(denseMetric, metric)}`, color: DENSE_COLOR, marker: 'diamond', line: false });
  }
  for (const s of plotted) {
    legend.push({
      label: s.points.length === 0 ? `${s.label}: no metric to plot` : s.label,
      color: s.color,
      marker: s.marker,
      dash: s.dash,
    });
  }
  if (anyHollow) {
    legend.push({ label: 'hollow: predicted, not measured', color: AXIS, marker: 'circle', hollow: true, line: false });
  }

  const top = 56;
  const plotHeight = 380;
  const height = Math.max(top + plotHeight + 56, top + legend.length * LEGEND_ROW + 20);
  const title = `${results.task}: ${metric.name} vs speedup (${modeName(results.mode)}, ${modelName(results)})`;
  const body = [
    text(WIDTH / 2, 26, title, { size: 15, anchor: 'middle', weight: 'bold', fill: INK, maxWidth: WIDTH - 24 }),
    renderPanel({
      x: PLOT_LEFT,
      y: top,
      width: PLOT_WIDTH,
      height: plotHeight,
      xAxis: {
        label: anyHollow ? 'speedup over the dense model (measured; hollow = predicted)' : 'measured speedup over the dense model',
        ticks: xTicks,
        format: (v) => `${v.toFixed(xTicks.decimals)}×`,
      },
      yAxis: { label: metricAxisLabel(results), ticks: yTicks },
      series: plotted,
      references: denseMetric === undefined ? [] : [{ y: denseMetric, label: `dense model: ${formatMetric(denseMetric, metric)}` }],
      standalone:
        denseMetric === undefined
          ? []
          : [
              {
                x: 1,
                y: denseMetric,
                color: DENSE_COLOR,
                marker: 'diamond',
                label: `dense model: 1.00×, ${metric.name} ${formatMetric(denseMetric, metric)}`,
              },
            ],
      emptyMessage: points.length === 0 ? 'no metric values: evaluation was skipped for every member' : undefined,
    }),
    renderLegend(legend, LEGEND_LEFT, top, LEGEND_WIDTH),
  ].join('\n');
  return svgDocument(WIDTH, height, title, body);
}

/** [min, max] widened by 3% of the range on each side, so no marker sits on the plot frame. */
function padded(values: readonly number[]): [number, number] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = (max - min) * 0.03;
  return [min - pad, max + pad];
}

/** 'BERT 12×768' style short name of the dense model. */
export function modelName(results: RunResults): string {
  const m = results.model;
  return `${m.modelType === 'bert' ? 'BERT' : 'GPT2'} ${m.numLayers}×${m.hiddenSize}`;
}

/**
 * Which series the structure plot shows: ZipLM's main setting (its variants share the search and
 * differ in fine-tuning), else the first ZipLM variant, else, in a run without ZipLM, the first
 * series present, so a baseline-only run still shows its shapes.
 */
export function structureSeries(series: readonly SeriesView[]): SeriesView | undefined {
  const nonEmpty = series.filter((s) => s.members.length > 0);
  return nonEmpty.find((s) => s.method === 'ziplm' && s.variant === undefined) ?? nonEmpty.find((s) => s.method === 'ziplm') ?? nonEmpty[0];
}

/** Viridis stops (dark purple → yellow); a sequential palette so higher targets read as "further". */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [0x44, 0x01, 0x54],
  [0x3b, 0x52, 0x8b],
  [0x21, 0x91, 0x8c],
  [0x5e, 0xc9, 0x62],
  [0xfd, 0xe7, 0x25],
];

/** A colour on the viridis ramp at t ∈ [0, 1], interpolated linearly in RGB. */
export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return `#${[0, 1, 2]
    .map((k) =>
      Math.round(a[k]! + (b[k]! - a[k]!) * f)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/**
 * Layer axis: one tick per layer up to 12 layers, then multiples of a nice integer step; layers
 * count from 1, and the first and last layer always get a tick (unless one sits too close).
 */
function layerTicks(layers: number): Ticks {
  const step = layers <= 12 ? 1 : niceTicks(1, layers, 10, true).step;
  const values: number[] = [1];
  for (let v = step; v <= layers; v += step) if (v - values[values.length - 1]! >= step / 2) values.push(v);
  if (layers - values[values.length - 1]! >= step / 2) values.push(layers);
  return { values, step, decimals: 0, min: 0.5, max: layers + 0.5 };
}

/**
 * Kept heads (top panel) and FFN neurons (bottom panel) per layer, one line per target, the dense
 * size as a dashed reference line.
 */
export function renderStructurePlot(results: RunResults, series: readonly SeriesView[]): string {
  const { numLayers, numHeads, intermediateSize } = results.model;
  const shown = structureSeries(series);
  const members = shown?.members ?? [];
  // Sequential colours by target (dark = small speedup); stop before viridis' pale yellow end,
  // which is unreadable on white.
  const lines = members.map((view, i) => ({
    view,
    label: `${formatSpeedup(view.member.target)} target`,
    color: viridis(members.length === 1 ? 0 : (i / (members.length - 1)) * 0.85),
  }));
  const markerSize = lines.length > 8 ? 3 : 4;
  // Head counts are small integers, so lines of different targets often coincide; shift each line
  // sideways by a small fraction of a layer (like grouped bars) so every line stays visible. The
  // tooltips carry the exact layer and value.
  const dodge = Math.min(0.06, 0.3 / Math.max(1, lines.length));
  const toSeries = (values: (m: MemberView) => readonly number[]): PlotSeries[] =>
    lines.map(({ view, label, color }, i) => ({
      label,
      color,
      marker: 'circle',
      markerSize,
      points: values(view).map((y, layer) => ({
        x: layer + 1 + (i - (lines.length - 1) / 2) * dodge,
        y,
        label: `${label}: layer ${layer + 1}, ${y}`,
      })),
    }));

  const legend: LegendEntry[] = [
    { label: 'dense model', color: AXIS, dash: '5 4' },
    ...lines.map(({ label, color }) => ({ label, color, marker: 'circle' as const })),
  ];

  const title = `${results.task}: kept structure per layer, ${shown?.label ?? 'ZipLM'} (${modelName(results)})`;
  const top = 76;
  const panelHeight = 200;
  const gap = 86;
  const height = Math.max(top + 2 * panelHeight + gap + 56, top + legend.length * LEGEND_ROW + 20);
  const empty = lines.length === 0 ? 'no members in this run' : undefined;
  const xTicks = layerTicks(numLayers);
  const body = [
    text(WIDTH / 2, 26, title, { size: 15, anchor: 'middle', weight: 'bold', fill: INK, maxWidth: WIDTH - 24 }),
    renderPanel({
      x: PLOT_LEFT,
      y: top,
      width: PLOT_WIDTH,
      height: panelHeight,
      title: 'attention heads kept per layer',
      xAxis: { label: 'layer', ticks: xTicks },
      yAxis: { label: 'heads', ticks: niceTicks(0, numHeads, 6, true) },
      series: toSeries((v) => v.member.layerHeads),
      references: [{ y: numHeads, label: `dense model: ${numHeads} heads per layer` }],
      emptyMessage: empty,
    }),
    renderPanel({
      x: PLOT_LEFT,
      y: top + panelHeight + gap,
      width: PLOT_WIDTH,
      height: panelHeight,
      title: 'FFN neurons kept per layer',
      xAxis: { label: 'layer', ticks: xTicks },
      yAxis: { label: 'FFN neurons', ticks: niceTicks(0, intermediateSize, 6, true) },
      series: toSeries((v) => v.member.layerIntermediate),
      references: [{ y: intermediateSize, label: `dense model: ${intermediateSize} FFN neurons per layer` }],
      emptyMessage: empty,
    }),
    renderLegend(legend, LEGEND_LEFT, top, LEGEND_WIDTH),
  ].join('\n');
  return svgDocument(WIDTH, height, title, body);
}
