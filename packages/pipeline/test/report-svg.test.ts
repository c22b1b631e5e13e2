// The report's building blocks: the SVG primitives (escaping, coordinates, nice ticks, markers,
// panels, legends), the number formats, Markdown escaping, and the XML checker the other report
// tests rely on (which must itself reject malformed documents, or those tests could not fail).

import { describe, expect, it } from 'vitest';
import {
  MISSING,
  escapeMarkdown,
  formatDeviation,
  formatMetric,
  formatMetricDelta,
  formatMillions,
  formatMs,
  formatShare,
  formatSpeedup,
} from '../src/report/format.js';
import { viridis } from '../src/report/plots.js';
import { element, escapeXml, fitText, marker, niceTicks, num, renderLegend, renderPanel, svgDocument, text } from '../src/report/svg.js';
import { ACCURACY, PERPLEXITY } from './fixtures/report/runs.js';
import { allElements, parseXml, textContent } from './fixtures/report/xml.js';

describe('XML checker (test helper)', () => {
  it('accepts a well-formed document and decodes entities', () => {
    const root = parseXml('<?xml version="1.0"?><a x="1 &amp; 2"><b>&lt;&#65;&#x42;</b><c/></a>\n');
    expect(root.name).toBe('a');
    expect(root.attributes.x).toBe('1 & 2');
    expect(textContent(root)).toBe('<AB');
    expect(allElements(root).map((e) => e.name)).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['<a><b></a></b>', /closes/],
    ['<a>', /unclosed/],
    ['<a></a><b/>', /second root/],
    ['<a>x & y</a>', /stray '&'/],
    ['<a>&nbsp;</a>', /unknown entity/],
    ['<a x=1/>', /malformed attribute/],
    ['<a x="1" x="2"/>', /duplicate attribute/],
    ['<a>\u0001</a>', /control character/],
    ['text<a/>', /outside the root/],
  ])('rejects %j', (source, message) => {
    expect(() => parseXml(source)).toThrow(message);
  });
});

describe('SVG primitives', () => {
  it('escapes the five XML specials and drops characters XML forbids', () => {
    expect(escapeXml(`a & b < c > d "e" 'f'`)).toBe('a &amp; b &lt; c &gt; d &quot;e&quot; &apos;f&apos;');
    expect(escapeXml('bell\u0007 nul\u0000 tab\tok \uFFFF lone\uD800')).toBe('bell nul tab\tok  lone');
    expect(escapeXml('λ3 = 0.5 · 2× ✓ 😀')).toBe('λ3 = 0.5 · 2× ✓ 😀');
  });

  it('round-trips any label through an element and the checker', () => {
    const nasty = `<script>alert("x")</script> & ]]> 'q' \u0001 λ`;
    const doc = svgDocument(100, 50, nasty, text(10, 20, nasty) + element('g', { 'data-x': nasty }, ''));
    const root = parseXml(doc);
    const texts = allElements(root).filter((e) => e.name === 'text');
    expect(texts[0]!.text).toBe(nasty.replace('\u0001', ''));
    expect(allElements(root).find((e) => e.name === 'g')!.attributes['data-x']).toBe(nasty.replace('\u0001', ''));
    expect(doc).not.toContain('<script');
  });

  it('prints coordinates with at most 2 decimals and never -0', () => {
    expect(num(1.23456)).toBe('1.23');
    expect(num(-0.001)).toBe('0');
    expect(num(-0)).toBe('0');
    expect(num(100)).toBe('100');
    expect(num(0.1 + 0.2)).toBe('0.3');
    expect(() => num(Number.NaN)).toThrow(/not finite/);
  });

  it('chooses nice ticks (1, 2 or 5 × 10^k) that cover the data without float noise', () => {
    const cases: [number, number][] = [
      [1, 15],
      [80.2, 91.5],
      [0.1, 0.3],
      [1, 2.53],
      [30.5, 3000],
      [-3, 7],
      [0.00012, 0.00019],
    ];
    for (const [min, max] of cases) {
      const t = niceTicks(min, max, 6);
      expect(t.min).toBeLessThanOrEqual(min);
      expect(t.max).toBeGreaterThanOrEqual(max);
      const mantissa = t.step / 10 ** Math.floor(Math.log10(t.step));
      expect([1, 2, 5]).toContain(Math.round(mantissa * 1e9) / 1e9);
      expect(t.values.length).toBeGreaterThanOrEqual(3);
      expect(t.values.length).toBeLessThanOrEqual(13);
      for (const v of t.values) expect(Math.abs(v / t.step - Math.round(v / t.step))).toBeLessThan(1e-6);
      // Printed ticks are short: no 0.30000000000000004.
      for (const v of t.values) expect(String(v).length).toBeLessThanOrEqual(12);
    }
    expect(niceTicks(0.1, 0.3, 2).values).toEqual([0.1, 0.2, 0.3]);
    expect(niceTicks(0, 12, 6, true).values).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(niceTicks(0, 1, 6, true).step).toBe(1);
  });

  it('widens a degenerate range and rejects a non-finite one', () => {
    const t = niceTicks(91.3, 91.3);
    expect(t.min).toBeLessThan(91.3);
    expect(t.max).toBeGreaterThan(91.3);
    expect(niceTicks(0, 0).values.length).toBeGreaterThan(1);
    expect(() => niceTicks(0, Infinity)).toThrow(/not finite/);
  });

  it('truncates long text with an ellipsis and keeps the full text as a tooltip', () => {
    const long = 'a very long legend label that cannot possibly fit';
    expect(fitText(long, 12, 100).endsWith('…')).toBe(true);
    expect(fitText('short', 12, 100)).toBe('short');
    const root = parseXml(text(0, 0, long, { maxWidth: 100 }));
    expect(root.children[0]!.name).toBe('title');
    expect(root.children[0]!.text).toBe(long);
  });

  it('draws filled and hollow markers of every shape', () => {
    for (const shape of ['circle', 'square', 'triangle', 'diamond', 'triangle-down'] as const) {
      const filled = parseXml(marker(shape, 10, 10, 4, '#0072B2', false));
      const hollow = parseXml(marker(shape, 10, 10, 4, '#0072B2', true));
      expect(filled.attributes.fill).toBe('#0072B2');
      expect(hollow.attributes.fill).toBe('#ffffff');
      expect(hollow.attributes.stroke).toBe('#0072B2');
    }
  });

  it('renders a panel whose ticks, lines and markers sit inside the plot area', () => {
    const svg = svgDocument(
      400,
      300,
      'panel',
      renderPanel({
        x: 50,
        y: 20,
        width: 300,
        height: 200,
        xAxis: { label: 'x', ticks: niceTicks(1, 4) },
        yAxis: { label: 'y', ticks: niceTicks(80, 90) },
        series: [
          {
            label: 's',
            color: '#000000',
            marker: 'circle',
            points: [
              { x: 1, y: 80 },
              { x: 4, y: 90, hollow: true },
            ],
          },
        ],
        references: [{ y: 85, label: 'ref' }],
      }) + renderLegend([{ label: 's', color: '#000000', marker: 'circle' }], 360, 20, 40),
    );
    const els = allElements(parseXml(svg));
    const circles = els.filter((e) => e.name === 'circle');
    expect(circles).toHaveLength(3); // two points + the legend sample
    for (const c of circles.slice(0, 2)) {
      expect(Number(c.attributes.cx)).toBeGreaterThanOrEqual(50);
      expect(Number(c.attributes.cx)).toBeLessThanOrEqual(350);
      expect(Number(c.attributes.cy)).toBeGreaterThanOrEqual(20);
      expect(Number(c.attributes.cy)).toBeLessThanOrEqual(220);
    }
    // y = 80 is the bottom of the plot area, y = 90 the top.
    expect(Number(circles[0]!.attributes.cy)).toBe(220);
    expect(Number(circles[1]!.attributes.cy)).toBe(20);
    expect(circles[1]!.attributes.fill).toBe('#ffffff');
    expect(els.some((e) => e.name === 'title' && e.text === 'ref')).toBe(true);
  });

  it('interpolates the viridis ramp', () => {
    expect(viridis(0)).toBe('#440154');
    expect(viridis(1)).toBe('#fde725');
    expect(viridis(0.5)).toBe('#21918c');
    expect(viridis(-1)).toBe('#440154');
  });
});

describe('number formats', () => {
  it('prints speedups with 2 decimals and ×', () => {
    expect(formatSpeedup(2)).toBe('2.00×');
    expect(formatSpeedup(3.98765)).toBe('3.99×');
    expect(formatSpeedup(undefined)).toBe(MISSING);
  });

  it('prints deviations as signed percentages with 2 decimals', () => {
    expect(formatDeviation(0.0125)).toBe('+1.25%');
    expect(formatDeviation(-0.01)).toBe('-1.00%');
    expect(formatDeviation(-0.00001)).toBe('0.00%');
    expect(formatDeviation(0)).toBe('0.00%');
    expect(formatDeviation(undefined)).toBe(MISSING);
  });

  it('prints percentage metrics with 1 decimal, others (perplexity) with 2', () => {
    expect(formatMetric(91.34, ACCURACY)).toBe('91.3');
    expect(formatMetric(30.456, PERPLEXITY)).toBe('30.46');
    expect(formatMetric(undefined, ACCURACY)).toBe(MISSING);
    expect(formatMetric(null, ACCURACY)).toBe(MISSING);
    expect(formatMetric(Infinity, PERPLEXITY)).toBe('∞');
    expect(formatMetric(Number.NaN, PERPLEXITY)).toBe('NaN');
    expect(formatMetricDelta(-1.26, ACCURACY)).toBe('-1.3');
    expect(formatMetricDelta(4.2, PERPLEXITY)).toBe('+4.20');
    expect(formatMetricDelta(-0.001, PERPLEXITY)).toBe('0.00');
  });

  it('prints shares, parameter counts and times', () => {
    expect(formatShare(0.3851)).toBe('38.5%');
    expect(formatMillions(85_017_600)).toBe('85.02');
    expect(formatMillions(123_456)).toBe('0.123');
    expect(formatMs(27.314)).toBe('27.31 ms');
    expect(formatMs(0.41234)).toBe('0.412 ms');
    expect(formatMs(940.25)).toBe('940.3 ms');
  });
});

describe('Markdown escaping', () => {
  it('keeps a table cell in one piece and opens no markup', () => {
    const s = escapeMarkdown('a|b *c* _d_ `e` [f](g) <h> & ~i~ \\');
    expect(s).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) &lt;h&gt; &amp; \\~i\\~ \\\\');
  });

  it('neutralises block markers at the start and joins lines', () => {
    expect(escapeMarkdown('# title')).toBe('\\# title');
    expect(escapeMarkdown('- item')).toBe('\\- item');
    expect(escapeMarkdown('1. item')).toBe('1\\. item');
    expect(escapeMarkdown('> quote')).toBe('&gt; quote');
    expect(escapeMarkdown('one\ntwo\r\nthree')).toBe('one two three');
    expect(escapeMarkdown('SST-2 dev')).toBe('SST-2 dev');
  });
});
