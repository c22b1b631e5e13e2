// The "Measure this device" page's plot of a latency table: two panels, what one layer's attention adds
// to the model per number of heads kept, and what its FFN adds per number of neurons kept, on one time
// axis, with the dense model's time in the caption. Pure geometry (no DOM): the component draws it as
// SVG, and test/measure-page.test.ts checks it.

import type { LatencyTable } from '@ziplm/latency/browser';

export interface PlotPoint {
  readonly kept: number;
  /** ms that one layer's module adds at this level. */
  readonly time: number;
  readonly x: number;
  readonly y: number;
}

export interface PlotPanel {
  readonly title: string;
  /** Left edge of the panel's plotting area. */
  readonly x0: number;
  readonly width: number;
  readonly points: readonly PlotPoint[];
  /** SVG path through the points (kept ascending). */
  readonly path: string;
  /** Tick labels of the x axis: kept counts. */
  readonly xTicks: ReadonlyArray<{ readonly x: number; readonly label: string }>;
}

export interface LatencyPlot {
  readonly width: number;
  readonly height: number;
  /** Top and bottom of the plotting area. */
  readonly y0: number;
  readonly y1: number;
  readonly yTicks: ReadonlyArray<{ readonly y: number; readonly label: string }>;
  readonly panels: readonly [PlotPanel, PlotPanel];
  readonly caption: string;
}

/** A round axis maximum at or above `x` (1, 2 or 5 × a power of ten). */
export function niceCeiling(x: number): number {
  if (!(x > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * power >= x * (1 - 1e-12)) return m * power;
  return 10 * power;
}

const ms = (x: number) => (x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2));

/** The plot of `table` in a `width` × `height` SVG. */
export function latencyPlot(table: LatencyTable, width = 720, height = 280): LatencyPlot {
  const margin = { left: 48, right: 16, top: 28, bottom: 28, gap: 48 };
  const y0 = margin.top;
  const y1 = height - margin.bottom;
  const panelWidth = (width - margin.left - margin.right - margin.gap) / 2;
  const maxTime = niceCeiling(Math.max(...table.attention.map((l) => l.time), ...table.ffn.map((l) => l.time), 1e-6));
  const yOf = (t: number) => y1 - (t / maxTime) * (y1 - y0);
  // Fifths of a 1, 2 or 5 × 10^k maximum are round numbers (0.1, 0.4, 1, …).
  const yTicks = [0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => ({ y: yOf(f * maxTime), label: f === 0 ? '0' : ms(f * maxTime) }));

  const panel = (title: string, levels: LatencyTable['attention'], x0: number, full: number): PlotPanel => {
    const xOf = (kept: number) => x0 + (kept / full) * panelWidth;
    const points = [...levels].sort((a, b) => a.kept - b.kept).map((l) => ({ kept: l.kept, time: l.time, x: xOf(l.kept), y: yOf(l.time) }));
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
    // Every count when there are few (heads), else quarters of the dense size (FFN neurons).
    const tickCounts =
      full <= 16 ? Array.from({ length: full + 1 }, (_, k) => k) : [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(f * full));
    const xTicks = tickCounts.map((kept) => ({ x: xOf(kept), label: String(kept) }));
    return { title, x0, width: panelWidth, points, path, xTicks };
  };
  const { model } = table;
  const env = table.environment;
  const panels = [
    panel(`attention: ms per layer vs heads kept (of ${model.numHeads})`, table.attention, margin.left, model.numHeads),
    panel(
      `FFN: ms per layer vs neurons kept (of ${model.intermediateSize})`,
      table.ffn,
      margin.left + panelWidth + margin.gap,
      model.intermediateSize,
    ),
  ] as const;
  const caption =
    `dense model ${ms(table.dense.median)} ms, of which ${ms(table.nonPrunable.median)} ms is not prunable ` +
    `(embeddings, head) · ${env.engine}${env.backend ? ` ${env.backend}` : ''}, ${env.threads} thread${env.threads === 1 ? '' : 's'}, ` +
    `batch ${env.batchSize} × ${env.sequenceLength} tokens`;
  return { width, height, y0, y1, yTicks, panels, caption };
}
