// A small hand-written SVG plotting module for the run report: escaping, nice axis ticks, linear
// scales, line charts with markers and a legend. No dependency, no fonts, no scripts.
//
// Why by hand: the report must render on GitHub and in any browser without a plotting library, and
// two identical runs must produce byte-identical files (resume tests compare run directories). So:
// every coordinate is rounded to 2 decimals, attributes are written in a fixed order, nothing reads
// the clock or a random source, and text widths are *estimated* (no font metrics exist here), which
// is why long labels are truncated with an ellipsis and carry their full text in a <title> tooltip.

/** Text and background colours. A white background keeps the plots readable in GitHub's dark mode. */
export const INK = '#222222';
export const GRID = '#e3e3e3';
export const AXIS = '#555555';
export const BACKGROUND = '#ffffff';
export const FONT_FAMILY = 'sans-serif';
/** Rings around flagged points (a degenerate member, a non-monotone latency level). */
export const FLAG_COLOR = '#E41A1C';
/**
 * The smallest font size of any text (px). Plots are drawn at about the width of a documentation
 * page's text column, so this is roughly the size a reader sees at 100% zoom.
 */
export const MIN_FONT_SIZE = 12;

/** Marker shapes; closed shapes only, so each can be drawn filled or hollow. */
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';

/**
 * Escapes text for XML character data and attribute values, and drops the code points XML 1.0 does
 * not allow at all (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/U+FFFF): an escaped
 * control character would still make the document ill-formed.
 */
export function escapeXml(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if ((cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffe || cp === 0xffff) {
      continue;
    }
    switch (ch) {
      case '&':
        out += '&amp;';
        break;
      case '<':
        out += '&lt;';
        break;
      case '>':
        out += '&gt;';
        break;
      case '"':
        out += '&quot;';
        break;
      case "'":
        out += '&apos;';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/**
 * A coordinate as SVG text: rounded to 2 decimals (sub-pixel precision is invisible and would make
 * the output depend on float noise), no trailing zeros, never "-0".
 */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`SVG coordinate is not finite: ${value}`);
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) || rounded === 0 ? '0' : String(rounded);
}

/** Attribute values: strings are escaped, numbers go through {@link num}; undefined is left out. */
export type Attributes = Readonly<Record<string, string | number | undefined>>;

/** One element as text. `content` is raw SVG (already escaped); use {@link text} for plain text. */
export function element(name: string, attributes: Attributes, content?: string): string {
  let out = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out += ` ${key}="${typeof value === 'number' ? num(value) : escapeXml(value)}"`;
  }
  return content === undefined || content === '' ? `${out}/>` : `${out}>${content}</${name}>`;
}

/** A rough width of `text` in user units: no font metrics exist here, 0.58 em is a sans-serif average. */
export function estimateTextWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * 0.58;
}

/** `text` shortened with an ellipsis so its estimated width fits `maxWidth`. */
export function fitText(text: string, fontSize: number, maxWidth: number): string {
  const chars = [...text];
  if (estimateTextWidth(text, fontSize) <= maxWidth) return text;
  const keep = Math.max(1, Math.floor(maxWidth / (fontSize * 0.58)) - 1);
  return `${chars.slice(0, keep).join('').trimEnd()}…`;
}

export interface TextOptions {
  readonly size?: number;
  readonly anchor?: 'start' | 'middle' | 'end';
  readonly weight?: 'normal' | 'bold';
  readonly fill?: string;
  /** Rotation in degrees around (x, y); -90 for a vertical axis label. */
  readonly rotate?: number;
  /** Truncate (with a tooltip holding the full text) beyond this estimated width. */
  readonly maxWidth?: number;
}

/** A text element; truncated text keeps its full content in a <title> tooltip. */
export function text(x: number, y: number, content: string, options: TextOptions = {}): string {
  const size = options.size ?? 12;
  const shown = options.maxWidth === undefined ? content : fitText(content, size, options.maxWidth);
  const tooltip = shown === content ? '' : element('title', {}, escapeXml(content));
  return element(
    'text',
    {
      x,
      y,
      'font-size': size,
      'text-anchor': options.anchor === 'start' || options.anchor === undefined ? undefined : options.anchor,
      'font-weight': options.weight === 'bold' ? 'bold' : undefined,
      fill: options.fill,
      transform: options.rotate ? `rotate(${num(options.rotate)} ${num(x)} ${num(y)})` : undefined,
    },
    tooltip + escapeXml(shown),
  );
}

/** The SVG document: fixed viewBox, white background, generic font, a <title> for screen readers. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  return `${element(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      viewBox: `0 0 ${num(width)} ${num(height)}`,
      width,
      height,
      role: 'img',
      'font-family': FONT_FAMILY,
      fill: INK,
    },
    `\n${element('title', {}, escapeXml(title))}\n` + `${element('rect', { x: 0, y: 0, width, height, fill: BACKGROUND })}\n${body}`,
  )}\n`;
}

// ---------------------------------------------------------------------------------------------------
// Ticks and scales

/** Axis ticks on "nice" values (1, 2 or 5 × 10^k apart) and the domain they span. */
export interface Ticks {
  readonly values: readonly number[];
  readonly step: number;
  /** Decimals that print every tick exactly (0 for integer steps). */
  readonly decimals: number;
  readonly min: number;
  readonly max: number;
}

/** The nice number (1, 2, 5 or 10 × 10^k) closest to `x` (Heckbert, "Nice numbers for graph labels"). */
function niceStep(x: number): number {
  const exponent = Math.floor(Math.log10(x));
  const fraction = x / 10 ** exponent;
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * 10 ** exponent;
}

/**
 * Ticks covering [min, max] with about `count` intervals; the returned domain is extended outward to
 * whole steps so every data point lies inside the plot. A degenerate range (min = max) is widened.
 * `integer` forces a step of at least 1 (layer indices, head counts).
 */
export function niceTicks(min: number, max: number, count = 5, integer = false): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new RangeError(`axis range is not finite: [${min}, ${max}]`);
  }
  if (min > max) [min, max] = [max, min];
  if (max - min < 1e-12 * Math.max(1, Math.abs(max))) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.05;
    min -= pad;
    max += pad;
  }
  let step = niceStep((max - min) / Math.max(1, count));
  if (integer) step = Math.max(1, Math.round(step));
  // Work in whole multiples of the step and round each tick to the step's decimals, so no tick
  // prints as 0.30000000000000004.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(Number((k * step).toFixed(decimals)));
  return { values, step, decimals, min: values[0]!, max: values[values.length - 1]! };
}

/** A linear map from a data domain to a pixel range (the range may run backwards, as y does). */
export interface Scale {
  (value: number): number;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
}

export function linearScale(domain: readonly [number, number], range: readonly [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0;
  const f = (value: number): number => (span === 0 ? (r0 + r1) / 2 : r0 + ((value - d0) / span) * (r1 - r0));
  return Object.assign(f, { domain, range });
}

// ---------------------------------------------------------------------------------------------------
// Markers, series, panels, legends

/** A marker centred at (x, y) with half-size `r`; hollow markers are white inside. */
export function marker(shape: MarkerShape, x: number, y: number, r: number, color: string, hollow: boolean): string {
  const paint = { fill: hollow ? BACKGROUND : color, stroke: color, 'stroke-width': hollow ? 1.6 : 1 };
  switch (shape) {
    case 'circle':
      return element('circle', { cx: x, cy: y, r, ...paint });
    case 'square':
      return element('rect', { x: x - r * 0.88, y: y - r * 0.88, width: r * 1.76, height: r * 1.76, ...paint });
    case 'triangle':
      return element('path', {
        d: polygon([
          [x, y - r * 1.15],
          [x + r, y + r * 0.7],
          [x - r, y + r * 0.7],
        ]),
        ...paint,
      });
    case 'triangle-down':
      return element('path', {
        d: polygon([
          [x, y + r * 1.15],
          [x + r, y - r * 0.7],
          [x - r, y - r * 0.7],
        ]),
        ...paint,
      });
    case 'diamond':
      return element('path', {
        d: polygon([
          [x, y - r * 1.2],
          [x + r, y],
          [x, y + r * 1.2],
          [x - r, y],
        ]),
        ...paint,
      });
  }
}

function polygon(points: readonly (readonly [number, number])[]): string {
  return `${points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${num(px)} ${num(py)}`).join(' ')} Z`;
}

/** One point of a series; `hollow` draws the marker unfilled (e.g. a predicted, not measured, value). */
export interface PlotPoint {
  readonly x: number;
  readonly y: number;
  readonly hollow?: boolean;
  /** Tooltip of the marker. */
  readonly label?: string;
  /** An interval around `y` (e.g. a 95% confidence interval), drawn as a vertical bar. */
  readonly interval?: readonly [number, number];
  /** Draws a ring around the marker (see {@link FLAG_COLOR}): a point the reader must not take at face value. */
  readonly flagged?: boolean;
}

export interface PlotSeries {
  readonly label: string;
  readonly color: string;
  readonly marker: MarkerShape;
  /** SVG stroke-dasharray of the line, e.g. '6 3'; solid when absent. */
  readonly dash?: string;
  /** Half-size of the markers (default 4.5); smaller when many lines share a panel. */
  readonly markerSize?: number;
  /** Points in drawing order; the line joins them in this order. */
  readonly points: readonly PlotPoint[];
}

/** A horizontal band across the whole panel (e.g. the dense model's 95% interval). */
export interface Band {
  readonly y0: number;
  readonly y1: number;
  readonly label: string;
  readonly color: string;
}

/** A horizontal reference line (e.g. the dense model) across the whole panel. */
export interface ReferenceLine {
  readonly y: number;
  readonly label: string;
  readonly color?: string;
}

export interface AxisSpec {
  readonly label: string;
  readonly ticks: Ticks;
  /** Tick text; defaults to the tick printed with the ticks' decimals. */
  readonly format?: (value: number) => string;
}

/** A plot area with axes, grid, reference lines and series, placed at (x, y) with the given size. */
export interface PanelSpec {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly title?: string;
  readonly xAxis: AxisSpec;
  readonly yAxis: AxisSpec;
  readonly series: readonly PlotSeries[];
  readonly references?: readonly ReferenceLine[];
  /** Shaded horizontal bands, drawn under everything else. */
  readonly bands?: readonly Band[];
  /** Extra points drawn on top (e.g. the dense model at 1×), not joined by lines. */
  readonly standalone?: readonly (PlotPoint & { readonly color: string; readonly marker: MarkerShape })[];
  /** Shown in the middle of the plot area when there is nothing to draw. */
  readonly emptyMessage?: string;
}

/** Renders a panel; the axis labels sit outside the plot area (left and below), the title above it. */
export function renderPanel(panel: PanelSpec): string {
  const { x, y, width, height, xAxis, yAxis } = panel;
  const sx = linearScale([xAxis.ticks.min, xAxis.ticks.max], [x, x + width]);
  const sy = linearScale([yAxis.ticks.min, yAxis.ticks.max], [y + height, y]);
  const fx = xAxis.format ?? ((v: number) => v.toFixed(xAxis.ticks.decimals));
  const fy = yAxis.format ?? ((v: number) => v.toFixed(yAxis.ticks.decimals));
  const parts: string[] = [];

  if (panel.title !== undefined) {
    parts.push(text(x + width / 2, y - 10, panel.title, { size: 14, anchor: 'middle', weight: 'bold', maxWidth: width }));
  }
  // Grid and tick labels.
  const grid: string[] = [];
  const labels: string[] = [];
  for (const t of xAxis.ticks.values) {
    grid.push(`M${num(sx(t))} ${num(y)} V${num(y + height)}`);
    labels.push(text(sx(t), y + height + 17, fx(t), { size: MIN_FONT_SIZE, anchor: 'middle' }));
  }
  for (const t of yAxis.ticks.values) {
    grid.push(`M${num(x)} ${num(sy(t))} H${num(x + width)}`);
    labels.push(text(x - 6, sy(t) + 4, fy(t), { size: MIN_FONT_SIZE, anchor: 'end' }));
  }
  for (const band of panel.bands ?? []) {
    const top = sy(Math.max(band.y0, band.y1));
    const bottom = sy(Math.min(band.y0, band.y1));
    parts.push(
      element(
        'rect',
        { x, y: top, width, height: Math.max(0.5, bottom - top), fill: band.color, 'fill-opacity': 0.12 },
        element('title', {}, escapeXml(band.label)),
      ),
    );
  }
  parts.push(element('path', { d: grid.join(' '), stroke: GRID, 'stroke-width': 1, fill: 'none' }));
  parts.push(element('rect', { x, y, width, height, fill: 'none', stroke: AXIS, 'stroke-width': 1 }));
  parts.push(element('g', { fill: AXIS }, labels.join('')));
  // Axis labels: x centred below the tick labels, y rotated left of the tick labels.
  const yTickWidth = Math.max(...yAxis.ticks.values.map((t) => estimateTextWidth(fy(t), MIN_FONT_SIZE)));
  parts.push(text(x + width / 2, y + height + 38, xAxis.label, { size: 13, anchor: 'middle', maxWidth: width }));
  parts.push(text(x - yTickWidth - 14, y + height / 2, yAxis.label, { size: 13, anchor: 'middle', rotate: -90, maxWidth: height }));

  for (const ref of panel.references ?? []) {
    const color = ref.color ?? AXIS;
    parts.push(
      element(
        'path',
        {
          d: `M${num(x)} ${num(sy(ref.y))} H${num(x + width)}`,
          stroke: color,
          'stroke-width': 1.2,
          'stroke-dasharray': '5 4',
          fill: 'none',
        },
        element('title', {}, escapeXml(ref.label)),
      ),
    );
  }

  for (const series of panel.series) {
    const group: string[] = [];
    if (series.points.length > 1) {
      const d = series.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${num(sx(p.x))} ${num(sy(p.y))}`).join(' ');
      group.push(element('path', { d, fill: 'none', stroke: series.color, 'stroke-width': 2, 'stroke-dasharray': series.dash }));
    }
    for (const p of series.points) {
      const r = series.markerSize ?? 4.5;
      let m = marker(series.marker, sx(p.x), sy(p.y), r, series.color, p.hollow === true);
      // The bar goes under the marker; the ring around it.
      if (p.interval !== undefined) m = intervalBar(sx(p.x), sy(p.interval[0]), sy(p.interval[1]), series.color) + m;
      if (p.flagged === true) m += flagRing(sx(p.x), sy(p.y), r);
      group.push(p.label === undefined ? m : element('g', {}, element('title', {}, escapeXml(p.label)) + m));
    }
    parts.push(element('g', {}, group.join('')));
  }
  for (const p of panel.standalone ?? []) {
    const m = marker(p.marker, sx(p.x), sy(p.y), 5.5, p.color, p.hollow === true);
    parts.push(p.label === undefined ? m : element('g', {}, element('title', {}, escapeXml(p.label)) + m));
  }
  if (panel.emptyMessage !== undefined) {
    parts.push(text(x + width / 2, y + height / 2, panel.emptyMessage, { size: 13, anchor: 'middle', fill: AXIS, maxWidth: width - 20 }));
  }
  return parts.join('\n');
}

/** A vertical interval bar from y0 to y1 at x, with short caps (drawn as one path, relative moves only). */
export function intervalBar(x: number, y0: number, y1: number, color: string): string {
  const cap = 3.5;
  return element('path', {
    d: `M${num(x)} ${num(y0)} V${num(y1)} m${num(-cap)} 0 h${num(2 * cap)} M${num(x - cap)} ${num(y0)} h${num(2 * cap)}`,
    stroke: color,
    'stroke-width': 1.4,
    fill: 'none',
  });
}

/** A ring around a marker of half-size `r`: the visual mark of a flagged point. */
export function flagRing(x: number, y: number, r: number): string {
  return element('circle', { cx: x, cy: y, r: r + 4, fill: 'none', stroke: FLAG_COLOR, 'stroke-width': 2 });
}

/**
 * One legend row: a line sample with its marker, or a marker alone (`line: false`); `sample` draws
 * the sample of a band, an interval bar or a flag ring instead.
 */
export interface LegendEntry {
  readonly label: string;
  readonly color: string;
  readonly marker?: MarkerShape;
  readonly hollow?: boolean;
  readonly dash?: string;
  readonly line?: boolean;
  readonly sample?: 'band' | 'bar' | 'ring';
}

/** Height of one legend row. */
export const LEGEND_ROW = 20;

/** Width of a legend row's sample and the gap after it. */
const LEGEND_SAMPLE = 36;
/** Font size of legend labels. */
const LEGEND_FONT = MIN_FONT_SIZE;

/**
 * How many legend columns fit in `width`: as many as the longest label allows (at most `max`), so
 * short labels (e.g. "2.00× target") share a row and long ones get the whole width.
 */
export function legendColumns(entries: readonly LegendEntry[], width: number, max = 4): number {
  if (entries.length === 0) return 1;
  const widest = Math.max(...entries.map((e) => estimateTextWidth(e.label, LEGEND_FONT))) + LEGEND_SAMPLE + 16;
  return Math.max(1, Math.min(max, entries.length, Math.floor(width / widest)));
}

/** Height of a legend of `count` entries in `columns` columns. */
export function legendHeight(count: number, columns = 1): number {
  return Math.ceil(count / Math.max(1, columns)) * LEGEND_ROW;
}

/**
 * A legend with its top-left corner at (x, y), filled row by row in `columns` columns of equal width;
 * labels wider than their column are truncated (the full text stays in a tooltip).
 */
export function renderLegend(entries: readonly LegendEntry[], x: number, y: number, width: number, columns = 1): string {
  const columnWidth = width / Math.max(1, columns);
  const rows = entries.map((entry, i) => {
    const column = i % Math.max(1, columns);
    const left = x + column * columnWidth;
    return legendRow(entry, left, y + Math.floor(i / Math.max(1, columns)) * LEGEND_ROW, columnWidth - 8);
  });
  return element('g', {}, rows.join('\n'));
}

function legendRow(entry: LegendEntry, x: number, y: number, width: number): string {
  const cy = y + LEGEND_ROW / 2;
  const sample: string[] = [];
  if (entry.sample === 'band') {
    sample.push(element('rect', { x, y: cy - 6, width: 28, height: 12, fill: entry.color, 'fill-opacity': 0.12 }));
  } else if (entry.sample === 'bar') {
    sample.push(intervalBar(x + 14, cy + 7, cy - 7, entry.color));
  } else if (entry.sample === 'ring') {
    sample.push(flagRing(x + 14, cy, 2.5));
  } else if (entry.line !== false) {
    sample.push(
      element('path', {
        d: `M${num(x)} ${num(cy)} H${num(x + 28)}`,
        stroke: entry.color,
        'stroke-width': 2,
        'stroke-dasharray': entry.dash,
        fill: 'none',
      }),
    );
  }
  if (entry.marker !== undefined) sample.push(marker(entry.marker, x + 14, cy, 4.5, entry.color, entry.hollow === true));
  return sample.join('') + text(x + LEGEND_SAMPLE, cy + 4, entry.label, { size: LEGEND_FONT, maxWidth: width - LEGEND_SAMPLE });
}
