// The plots of report.md:
// - accuracy-vs-speedup.svg: the task metric against the speedup over the dense model, one line per
//   method and variant (ZipLM and the baselines), 95% interval bars on accuracies, the dense model at
//   1× with its interval as a band, degenerate members ringed;
// - structure.svg: kept attention heads and FFN neurons per layer for each ZipLM target, like the
//   paper's Figures 6 and 8 (guide/paper.md, Appendix E);
// - latency-table.svg: the latency table the search used, time per layer against kept heads and
//   against kept FFN neurons, levels faster than a smaller level ringed (when the run directory has
//   its latency-table.json).
//
// Every plot is WIDTH user units wide, about the width of a documentation page's text column, so
// that text drawn at MIN_FONT_SIZE or larger reads at that size on the page; legends sit below the
// plot areas, where they can take the whole width.

import type { LatencyTable, LevelTime } from '@ziplm/latency';
import type { RunResults } from '../results.js';
import { formatInterval, formatMetric, formatMetricWithInterval, formatMs, formatSpeedup } from './format.js';
import { DEGENERATE_MARK, type DegenerateReason, type MemberView, type SeriesView, metricInterval, modelFamily } from './model.js';
import {
  AXIS,
  FLAG_COLOR,
  INK,
  type LegendEntry,
  type PanelSpec,
  type PlotSeries,
  type Ticks,
  legendColumns,
  legendHeight,
  niceTicks,
  renderLegend,
  renderPanel,
  svgDocument,
  text,
} from './svg.js';

/** File names of the plots inside the run directory (report.md links them relatively). */
export const ACCURACY_SVG = 'accuracy-vs-speedup.svg';
export const STRUCTURE_SVG = 'structure.svg';
export const LATENCY_SVG = 'latency-table.svg';

/** Width of every plot (user units = px at 100% zoom): a documentation page's text column. */
export const PLOT_DOCUMENT_WIDTH = 680;
const WIDTH = PLOT_DOCUMENT_WIDTH;
const PLOT_LEFT = 84;
const PLOT_WIDTH = WIDTH - PLOT_LEFT - 24;
const LEGEND_LEFT = 16;
const LEGEND_WIDTH = WIDTH - 2 * LEGEND_LEFT;
/** From the bottom of a plot area to the legend below it: tick labels and the axis label. */
const BELOW_PLOT = 58;
const DENSE_COLOR = '#000000';
const LATENCY_COLOR = '#0072B2';

/** What a degenerate member's reasons read as in tooltips and report.md. */
export const DEGENERATE_TEXT: Readonly<Record<DegenerateReason, string>> = {
  chance: 'chance level',
  'no-attention': 'all attention removed',
};

function modeName(mode: RunResults['mode']): string {
  return mode === 'oneshot' ? 'one-shot' : 'gradual';
}

/**
 * The metric axis label. Higher is better is what an accuracy axis means without saying it; a metric
 * where lower is better says so (unless its label already does). The label runs along the plot's
 * height, so the shorter it is the less of it an ellipsis hides.
 */
export function metricAxisLabel(results: RunResults): string {
  const { label, higherIsBetter } = results.metric;
  return higherIsBetter || /lower is better/i.test(label) ? label : `${label}, lower is better`;
}

/**
 * Metric (y) against speedup (x). The x value is the measured speedup; a member that was not re-timed
 * is drawn at its predicted speedup with a hollow marker, and the legend says so. Accuracies carry
 * their 95% interval as a bar, the dense model's interval is a band across the plot, and degenerate
 * members are ringed. Members without a (finite) metric cannot be placed and are left out; report.md
 * lists them.
 */
export function renderAccuracyPlot(results: RunResults, series: readonly SeriesView[]): string {
  const metric = results.metric;
  const denseMetric = Number.isFinite(results.dense.metric) ? results.dense.metric : undefined;
  const denseInterval = metricInterval(metric, denseMetric);
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
        interval: v.metricInterval,
        flagged: v.degenerate.length > 0,
        label: pointLabel(s, v, results),
      })),
  }));
  const points = plotted.flatMap((s) => s.points);
  const anyHollow = points.some((p) => p.hollow);
  const anyFlagged = points.some((p) => p.flagged);

  const xs = [1, ...points.map((p) => p.x)];
  const ys = [
    ...points.flatMap((p) => [p.y, ...(p.interval ?? [])]),
    ...(denseMetric === undefined ? [] : [denseMetric]),
    ...(denseInterval ?? []),
  ];
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
  if (points.some((p) => p.interval !== undefined)) {
    legend.push({ label: `bars: 95% interval (Wilson, ${metric.items} items)`, color: AXIS, sample: 'bar' });
  }
  if (denseInterval !== undefined) {
    legend.push({
      label: `band: dense model's 95% interval (${formatInterval(denseInterval, metric)})`,
      color: DENSE_COLOR,
      sample: 'band',
    });
  }
  if (anyFlagged) {
    legend.push({ label: `ring: degenerate (${Object.values(DEGENERATE_TEXT).join(', ')})`, color: FLAG_COLOR, sample: 'ring' });
  }
  if (anyHollow) {
    legend.push({ label: 'hollow: predicted, not measured', color: AXIS, marker: 'circle', hollow: true, line: false });
  }

  const top = 48;
  const plotHeight = 340;
  const legendTop = top + plotHeight + BELOW_PLOT;
  const columns = legendColumns(legend, LEGEND_WIDTH, 2);
  const height = legendTop + legendHeight(legend.length, columns) + 12;
  const title = `${results.task}: ${metric.name} vs speedup (${modeName(results.mode)}, ${modelName(results)})`;
  const body = [
    text(WIDTH / 2, 26, title, { size: 16, anchor: 'middle', weight: 'bold', fill: INK, maxWidth: WIDTH - 24 }),
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
      bands:
        denseInterval === undefined
          ? []
          : [
              {
                y0: denseInterval[0],
                y1: denseInterval[1],
                color: DENSE_COLOR,
                label: `dense model's 95% interval: ${formatInterval(denseInterval, metric)}`,
              },
            ],
      standalone:
        denseMetric === undefined
          ? []
          : [
              {
                x: 1,
                y: denseMetric,
                color: DENSE_COLOR,
                marker: 'diamond',
                label: `dense model: 1.00×, ${metric.name} ${formatMetricWithInterval(denseMetric, denseInterval, metric)}`,
              },
            ],
      emptyMessage: points.length === 0 ? 'no metric values: evaluation was skipped for every member' : undefined,
    }),
    renderLegend(legend, LEGEND_LEFT, legendTop, LEGEND_WIDTH, columns),
  ].join('\n');
  return svgDocument(WIDTH, height, title, body);
}

/** Tooltip of a member's point: target, speedup, metric (with its interval) and, if so, why it is degenerate. */
function pointLabel(s: SeriesView, v: MemberView, results: RunResults): string {
  const metric = results.metric;
  let label =
    `${s.label}: target ${formatSpeedup(v.member.target)}, ` +
    `${v.speedupMeasured ? 'measured' : 'predicted (not measured)'} ${formatSpeedup(v.speedup)}, ` +
    `${metric.name} ${formatMetric(v.plottableMetric, metric)}`;
  if (v.metricInterval !== undefined) label += ` (95% interval ${formatInterval(v.metricInterval, metric)})`;
  if (v.degenerate.length > 0) label += `; ${DEGENERATE_MARK} degenerate: ${v.degenerate.map((r) => DEGENERATE_TEXT[r]).join(', ')}`;
  return label;
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
  return `${modelFamily(results)} ${m.numLayers}×${m.hiddenSize}`;
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
  const dodge = Math.min(0.08, 0.5 / Math.max(1, lines.length));
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
  const empty = lines.length === 0 ? 'no members in this run' : undefined;
  const xTicks = layerTicks(numLayers);
  return renderStackedPanels(
    title,
    210,
    [
      {
        title: 'attention heads kept per layer',
        xAxis: { label: 'layer', ticks: xTicks },
        yAxis: { label: 'heads', ticks: niceTicks(0, numHeads, 6, true) },
        series: toSeries((v) => v.member.layerHeads),
        references: [{ y: numHeads, label: `dense model: ${numHeads} heads per layer` }],
        emptyMessage: empty,
      },
      {
        title: 'FFN neurons kept per layer',
        xAxis: { label: 'layer', ticks: xTicks },
        yAxis: { label: 'FFN neurons', ticks: niceTicks(0, intermediateSize, 6, true) },
        series: toSeries((v) => v.member.layerIntermediate),
        references: [{ y: intermediateSize, label: `dense model: ${intermediateSize} FFN neurons per layer` }],
        emptyMessage: empty,
      },
    ],
    legend,
    4,
  );
}

/**
 * A plot of panels stacked one above the other at the document width, each `panelHeight` high, with
 * the title above and the legend below (at most `maxLegendColumns` columns).
 */
function renderStackedPanels(
  title: string,
  panelHeight: number,
  panels: readonly Omit<PanelSpec, 'x' | 'y' | 'width' | 'height'>[],
  legend: readonly LegendEntry[],
  maxLegendColumns: number,
): string {
  const top = 72;
  // Room between panels for a panel's tick labels, axis label and the next panel's title.
  const gap = 92;
  const legendTop = top + panels.length * panelHeight + (panels.length - 1) * gap + BELOW_PLOT;
  const columns = legendColumns(legend, LEGEND_WIDTH, maxLegendColumns);
  const height = legendTop + legendHeight(legend.length, columns) + 12;
  const body = [
    text(WIDTH / 2, 26, title, { size: 16, anchor: 'middle', weight: 'bold', fill: INK, maxWidth: WIDTH - 24 }),
    ...panels.map((panel, i) =>
      renderPanel({ ...panel, x: PLOT_LEFT, y: top + i * (panelHeight + gap), width: PLOT_WIDTH, height: panelHeight }),
    ),
    renderLegend(legend, LEGEND_LEFT, legendTop, LEGEND_WIDTH, columns),
  ].join('\n');
  return svgDocument(WIDTH, height, title, body);
}

/** A level of the latency table measured faster than a level with fewer heads or neurons. */
export interface NonMonotoneLevel {
  readonly module: 'attention' | 'ffn';
  readonly kept: number;
  /** ms per layer. */
  readonly time: number;
  /** The slowest smaller level, which this one undercuts. */
  readonly smaller: { readonly kept: number; readonly time: number };
}

/**
 * Levels whose time is below that of a smaller level of the same module. Keeping more heads or
 * neurons cannot make a module faster, so such a level is measurement noise or a kernel switch; the
 * search trusts the table and prefers it, which is why the report shows it.
 */
export function nonMonotoneLevels(module: 'attention' | 'ffn', levels: readonly LevelTime[]): NonMonotoneLevel[] {
  const ascending = [...levels].sort((a, b) => a.kept - b.kept);
  const out: NonMonotoneLevel[] = [];
  let slowest: LevelTime | undefined;
  for (const level of ascending) {
    if (slowest !== undefined && level.time < slowest.time) {
      out.push({ module, kept: level.kept, time: level.time, smaller: { kept: slowest.kept, time: slowest.time } });
    }
    if (slowest === undefined || level.time >= slowest.time) slowest = level;
  }
  return out;
}

/**
 * The latency table: time per layer (ms) against kept heads (top) and kept FFN neurons (bottom), in
 * the table's environment; levels faster than a smaller level are ringed.
 */
export function renderLatencyPlot(results: RunResults, table: LatencyTable): string {
  const panels = (['attention', 'ffn'] as const).map((module) => {
    const levels = [...(module === 'attention' ? table.attention : table.ffn)].sort((a, b) => a.kept - b.kept);
    const flagged = new Set(nonMonotoneLevels(module, levels).map((l) => l.kept));
    const unit = module === 'attention' ? 'heads' : 'FFN neurons';
    const series: PlotSeries = {
      label: module,
      color: LATENCY_COLOR,
      marker: 'circle',
      markerSize: levels.length > 24 ? 3 : 4,
      points: levels.map((l) => ({
        x: l.kept,
        y: l.time,
        flagged: flagged.has(l.kept),
        label: `${module === 'attention' ? 'attention' : 'FFN'}, ${l.kept} ${unit}: ${formatMs(l.time)} per layer${flagged.has(l.kept) ? ' (non-monotone: faster than a smaller level)' : ''}`,
      })),
    };
    const max = Math.max(...levels.map((l) => l.kept));
    const times = levels.map((l) => l.time);
    return { module, unit, series, flagged, max, times };
  });
  const anyFlagged = panels.some((p) => p.flagged.size > 0);
  const legend: LegendEntry[] = [{ label: 'time the runtime model adds per layer', color: LATENCY_COLOR, marker: 'circle' }];
  if (anyFlagged)
    legend.push({ label: 'ring: non-monotone (faster than a level with fewer heads or neurons)', color: FLAG_COLOR, sample: 'ring' });

  const title = `${results.task}: latency table, time per layer (${modelName(results)})`;
  return renderStackedPanels(
    title,
    200,
    panels.map((p) => ({
      title: p.module === 'attention' ? 'attention: time per layer vs kept heads' : 'FFN: time per layer vs kept neurons',
      xAxis: { label: `kept ${p.unit}`, ticks: niceTicks(0, Math.max(1, p.max), 8, true) },
      yAxis: { label: 'ms per layer', ticks: niceTicks(0, Math.max(0, ...p.times) * 1.04, 5) },
      series: [p.series],
    })),
    legend,
    2,
  );
}
