// Issue 13's report: accuracies with their 95% interval (Wilson), degenerate members flagged,
// |deviation| counted both ways (overshoot is reported, not hidden by "pass"), three-way speed
// verdicts with their reason, per-member time and size, the CPU in the environment line, a plot of
// the latency table with its non-monotone levels, notes after the results, tables narrow enough for
// a documentation page, and plots whose text is legible at page width and never clipped.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wilsonInterval } from '@ziplm/core';
import { saveLatencyTable } from '@ziplm/latency';
import { describe, expect, it } from 'vitest';
import { ACCURACY_SVG, LATENCY_SVG, REPORT_MD, STRUCTURE_SVG, renderReport, writeReport } from '../src/report/index.js';
import { nonMonotoneLevels } from '../src/report/plots.js';
import { estimateTextWidth, FLAG_COLOR, MIN_FONT_SIZE } from '../src/report/svg.js';
import type { MemberResult, RunResults } from '../src/results.js';
import { section, tables } from './fixtures/report/markdown.js';
import { ACCURACY, BERT_BASE, manyMemberRun, member, perplexityRun, run, threeMethodRun } from './fixtures/report/runs.js';
import { bertBaseTable } from './fixtures/report/table.js';
import { type XmlElement, allElements, parseXml } from './fixtures/report/xml.js';

/** SST-2-like: 872 items, majority class 50.9%. */
const SST2 = { ...ACCURACY, items: 872, chance: 50.92 };

const percentInterval = (metric: number, items: number): string =>
  wilsonInterval(Math.round((metric / 100) * items), items)
    .map((x) => (100 * x).toFixed(1))
    .join('–');

const emptyHeads = Array(12).fill(0);

describe('accuracy intervals', () => {
  it('puts the 95% Wilson interval beside every accuracy in the tables', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { metric: 90.1 })], { metric: SST2 });
    const { markdown } = renderReport(results);
    const dense = tables(section(markdown, '## Dense baseline'))[0]!;
    expect(dense[1]![0]).toBe(`91.3 (${percentInterval(91.3, 872)})`);
    const row = tables(section(markdown, '### ZipLM'))[0]![1]!;
    expect(row[5]).toBe(`90.1 (${percentInterval(90.1, 872)})`);
    expect(section(markdown, '## How to read this')).toContain('95% interval (Wilson, over the 872 evaluation items)');
  });

  it('draws interval bars, the dense band, and says so in the legend and tooltips', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { metric: 90.1 }), member(BERT_BASE, 'ziplm', 3, { metric: 88 })], {
      metric: SST2,
    });
    const els = allElements(parseXml(renderReport(results).svgs[ACCURACY_SVG]!));
    const bars = els.filter((e) => e.name === 'path' && e.attributes.stroke === '#0072B2' && / V[\d.]+ m/.test(e.attributes.d!));
    expect(bars).toHaveLength(2);
    const band = els.find((e) => e.name === 'rect' && e.attributes['fill-opacity'] === '0.12' && e.children[0]?.name === 'title');
    expect(band?.children[0]?.text).toBe(`dense model's 95% interval: ${percentInterval(91.3, 872)}`);
    const texts = els.filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toContain('bars: 95% interval (Wilson, 872 items)');
    expect(texts.some((t) => t.startsWith("band: dense model's 95% interval"))).toBe(true);
    expect(els.some((e) => e.name === 'title' && e.text.endsWith(`accuracy 90.1 (95% interval ${percentInterval(90.1, 872)})`))).toBe(true);
  });

  it('says in a table note why a metric has no interval', () => {
    expect(section(renderReport(threeMethodRun()).markdown, '## Results per method')).toContain(
      'No 95% interval on accuracy: these results do not record how many items it was measured on.',
    );
    expect(section(renderReport(perplexityRun()).markdown, '## Results per method')).toContain(
      'No 95% interval on perplexity: it is not a share of independent items',
    );
    const withItems = renderReport(run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2)], { metric: SST2 })).markdown;
    expect(withItems).not.toContain('No 95% interval');
  });
});

describe('degenerate members', () => {
  const results = run(
    BERT_BASE,
    [
      member(BERT_BASE, 'ziplm', 2, { metric: 88 }),
      member(BERT_BASE, 'ziplm', 8, { metric: 51.5 }),
      member(BERT_BASE, 'ziplm', 10, { metric: 70, heads: emptyHeads }),
      member(BERT_BASE, 'magnitude', 10, { metric: 60, ffn: Array(12).fill(0) }),
    ],
    { metric: SST2 },
  );
  const { markdown, svgs } = renderReport(results);

  it('marks chance-level accuracy and removed modules in the table, with a legend line', () => {
    const rows = tables(section(markdown, '### ZipLM'))[0]!;
    expect(rows[1]![5]).not.toContain('⚠');
    // 51.5% on 872 items: its interval reaches the majority-class rate 50.9%.
    expect(rows[2]![5]).toBe(`51.5 (${percentInterval(51.5, 872)}) ⚠`);
    expect(rows[3]![5]).toMatch(/ ⚠$/);
    // No FFN left is not degenerate in itself: attention alone can carry a task, and the accuracy says whether it did.
    expect(tables(section(markdown, '### Magnitude (L2, no update)'))[0]![1]![5]).not.toContain('⚠');
    const perMethod = section(markdown, '## Results per method');
    expect(perMethod).toContain(
      '⚠ degenerate (valid, but not a useful model; chance level: accuracy not above 50.9 (always predicting the majority class)): ' +
        'ZipLM 8.00× (chance level); ZipLM 10.00× (all attention removed).',
    );
  });

  it('rings degenerate members in the plot and explains the ring', () => {
    const els = allElements(parseXml(svgs[ACCURACY_SVG]!));
    const rings = els.filter((e) => e.name === 'circle' && e.attributes.stroke === FLAG_COLOR && e.attributes.fill === 'none');
    expect(rings).toHaveLength(2 + 1); // two members and the legend sample
    expect(els.some((e) => e.name === 'text' && e.text.startsWith('ring: degenerate'))).toBe(true);
    expect(els.some((e) => e.name === 'title' && e.text.includes('⚠ degenerate: all attention removed'))).toBe(true);
  });

  it('flags nothing in a run without chance level or removed modules', () => {
    const plain = renderReport(threeMethodRun());
    expect(plain.markdown).not.toContain('⚠ degenerate');
    expect(plain.svgs[ACCURACY_SVG]).not.toContain(FLAG_COLOR);
  });
});

describe('|deviation| both ways and the speed verdicts', () => {
  const results = run(BERT_BASE, [
    member(BERT_BASE, 'ziplm', 2, { achieved: 0.99 }),
    member(BERT_BASE, 'ziplm', 5, { achieved: 3.487 }),
    { ...member(BERT_BASE, 'magnitude', 2, { achieved: 0.9 }), status: 'fail' },
    {
      ...member(BERT_BASE, 'magnitude', 5, { achieved: 0.975 }),
      status: 'inconclusive',
      statusReason: 'load average 3.1 on 2 cores; re-time with ziplm verify --rounds 80',
    } satisfies MemberResult,
  ]);
  const { markdown } = renderReport(results);

  it('reports overshoot in the status column instead of a bare pass', () => {
    const ziplm = tables(section(markdown, '### ZipLM'))[0]!;
    expect(ziplm[1]![4]).toBe('pass');
    expect(ziplm[2]![3]).toBe('+248.70%');
    expect(ziplm[2]![4]).toBe('pass, overshoot');
    const magnitude = tables(section(markdown, '### Magnitude (L2, no update)'))[0]!;
    expect(magnitude[1]![4]).toBe('**FAIL**');
    expect(magnitude[2]![4]).toBe('inconclusive');
  });

  it("prints |deviation| per target with its direction, and the mean (the paper's Table 5)", () => {
    const text = section(markdown, '## Target vs achieved speedup');
    const absolute = tables(text)[1]!;
    expect(absolute).toEqual([
      ['target', 'ZipLM', 'Magnitude (L2, no update)'],
      ['2.00×', '1.00% under', '10.00% under'],
      ['5.00×', '248.70% over', '2.50% under'],
      ['mean', '**124.85%**', '**6.25%**'],
    ]);
    expect(text).toContain('Largest |deviation|: **248.70%** (ZipLM, target 5.00×).');
    expect(text).toContain('Overshoot (measured more than 2% above the target');
    expect(text).toContain('ZipLM at 5.00× (+248.70%).');
  });

  it('counts inconclusive verdicts apart and says why each one is inconclusive', () => {
    const text = section(markdown, '## Target vs achieved speedup');
    expect(text).toContain('Status: 2 pass, 1 fail, 1 inconclusive. Failed: Magnitude (L2, no update) at 2.00×.');
    expect(text).toContain('- Magnitude (L2, no update) at 5.00×: load average 3.1 on 2 cores; re-time with ziplm verify --rounds 80');
  });

  it("shows the measured speedup's 95% interval when the verification recorded one", () => {
    const m = {
      ...member(BERT_BASE, 'ziplm', 2, { achieved: 0.99 }),
      verification: { uncertainty: 0.003, interval: [1.96, 2.01] as const, denseMs: 27.5, memberMs: 13.89, rounds: 40 },
    };
    const text = section(renderReport(run(BERT_BASE, [m])).markdown, '## Target vs achieved speedup');
    expect(tables(text)[0]![1]![1]).toBe('1.98× (1.96–2.01×)');
  });
});

describe('time and size per member', () => {
  it('prints the median time, total parameters and the ONNX file size', () => {
    const m: MemberResult = {
      ...member(BERT_BASE, 'ziplm', 2),
      totalParameters: 66_123_456,
      onnxBytes: 264_512_000,
      verification: { uncertainty: 0.003, denseMs: 27.5, memberMs: 13.89, rounds: 40 },
    };
    const rows = tables(section(renderReport(run(BERT_BASE, [m])).markdown, '### ZipLM'))[1]!;
    expect(rows[1]).toEqual(['2.00×', '13.89 ms', expect.any(String), expect.any(String), expect.any(String), '66.12', '265 MB']);
  });
});

describe('the latency table in the report', () => {
  it('finds levels faster than a smaller level', () => {
    const table = bertBaseTable();
    expect(nonMonotoneLevels('attention', table.attention)).toEqual([]);
    expect(nonMonotoneLevels('ffn', table.ffn)).toEqual([{ module: 'ffn', kept: 1536, time: 1.1, smaller: { kept: 1024, time: 1.25 } }]);
  });

  it('plots it, rings the non-monotone level, lists it, and names the CPU in the environment line', () => {
    const { markdown, svgs } = renderReport(threeMethodRun(), { latencyTable: bertBaseTable() });
    expect(markdown).toContain(
      "- **environment:** onnxruntime-node 1.30.0 cpu, 2 threads, batch 1, sequence 128, latency mode; CPU Test CPU 9000, 2 logical cores (the latency table's device)",
    );
    const text = section(markdown, '## Latency table');
    expect(text).toContain(`](${LATENCY_SVG})`);
    expect(text).toContain('- FFN, 1536 neurons: 1.10 ms, faster than 1024 neurons (1.25 ms)');
    const els = allElements(parseXml(svgs[LATENCY_SVG]!));
    const flagged = els.filter(
      (e) =>
        e.name === 'g' &&
        e.children[0]?.name === 'title' &&
        e.children.some((c) => c.name === 'circle' && c.attributes.stroke === FLAG_COLOR),
    );
    expect(flagged.map((g) => g.children[0]!.text)).toEqual([
      'FFN, 1536 FFN neurons: 1.10 ms per layer (non-monotone: faster than a smaller level)',
    ]);
    expect(els.some((e) => e.name === 'text' && e.text === 'attention: time per layer vs kept heads')).toBe(true);
    expect(els.some((e) => e.name === 'text' && e.text === 'FFN: time per layer vs kept neurons')).toBe(true);
  });

  it('is read from the run directory by writeReport, and a damaged table becomes a note', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ziplm-report-table-'));
    try {
      await saveLatencyTable(join(dir, 'latency-table.json'), bertBaseTable());
      const written = await writeReport(dir, threeMethodRun());
      expect(written).toEqual([ACCURACY_SVG, STRUCTURE_SVG, LATENCY_SVG, REPORT_MD].map((f) => join(dir, f)));
      expect(await readFile(join(dir, REPORT_MD), 'utf8')).toContain('CPU Test CPU 9000');
      await writeFile(join(dir, 'latency-table.json'), '{"format": "ziplm-latency-table"');
      await writeReport(dir, threeMethodRun());
      const report = await readFile(join(dir, REPORT_MD), 'utf8');
      expect(section(report, '## Notes')).toMatch(/The run's latency table could not be read \(latency-table\.json: /);
      expect(report).not.toContain(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('report layout', () => {
  it('puts the notes and "how to read" after the results', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { measured: false })], { notes: ['a note'] });
    const { markdown } = renderReport(results);
    const at = (heading: string) => markdown.split('\n').indexOf(heading);
    expect(at('## Notes')).toBeGreaterThan(at('## Where the pruning went'));
    expect(at('## How to read this')).toBeGreaterThan(at('## Notes'));
    expect(at('## Dense baseline')).toBeLessThan(at('## Results per method'));
  });

  it('keeps every table at 7 columns or fewer, whatever the number of methods', () => {
    for (const results of [threeMethodRun(), manyMemberRun()]) {
      for (const t of tables(renderReport(results, { latencyTable: bertBaseTable() }).markdown)) {
        expect(t[0]!.length).toBeLessThanOrEqual(7);
      }
    }
  });
});

/** Every text element's estimated box, in user units (rotation by ±90° supported). */
function textBoxes(els: readonly XmlElement[]): { text: string; size: number; left: number; right: number; top: number; bottom: number }[] {
  return els
    .filter((e) => e.name === 'text')
    .map((e) => {
      const size = Number(e.attributes['font-size']);
      const x = Number(e.attributes.x);
      const y = Number(e.attributes.y);
      const width = estimateTextWidth(e.text, size);
      const anchor = e.attributes['text-anchor'] ?? 'start';
      const start = anchor === 'middle' ? -width / 2 : anchor === 'end' ? -width : 0;
      if (e.attributes.transform?.startsWith('rotate(-90')) {
        // Reads bottom to top: the run goes up from y, the glyphs stand left of x.
        return { text: e.text, size, left: x - size, right: x + size * 0.25, top: y - start - width, bottom: y - start };
      }
      return { text: e.text, size, left: x + start, right: x + start + width, top: y - size, bottom: y + size * 0.25 };
    });
}

describe('plot legibility', () => {
  const cases: [string, RunResults][] = [
    ['three methods', threeMethodRun()],
    ['many members and long variant names', manyMemberRun()],
    ['perplexity', perplexityRun()],
    [
      'intervals and degenerate members',
      run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2), member(BERT_BASE, 'ziplm', 10, { heads: emptyHeads, metric: 50 })], { metric: SST2 }),
    ],
  ];
  it.each(cases)('%s: every text is at least 12 px and inside the viewBox', (_name, results) => {
    const { svgs } = renderReport(results, { latencyTable: bertBaseTable() });
    expect(Object.keys(svgs)).toHaveLength(3);
    for (const [name, svg] of Object.entries(svgs)) {
      const root = parseXml(svg);
      const [, , width, height] = root.attributes.viewBox!.split(' ').map(Number) as [number, number, number, number];
      // Drawn at the width of a documentation page's text column: shown at 100%, not scaled down.
      expect(width, name).toBeLessThanOrEqual(700);
      for (const box of textBoxes(allElements(root))) {
        expect(box.size, `${name}: "${box.text}"`).toBeGreaterThanOrEqual(MIN_FONT_SIZE);
        expect(box.left, `${name}: "${box.text}" starts left of the plot`).toBeGreaterThanOrEqual(0);
        expect(box.right, `${name}: "${box.text}" ends right of the plot`).toBeLessThanOrEqual(width);
        expect(box.top, `${name}: "${box.text}" starts above the plot`).toBeGreaterThanOrEqual(0);
        expect(box.bottom, `${name}: "${box.text}" ends below the plot`).toBeLessThanOrEqual(height);
      }
    }
  });

  it('shows eight structure targets with whole, untruncated legend labels', () => {
    const targets = [1.5, 2, 3, 4, 5, 6, 8, 10];
    const { svgs } = renderReport(
      run(
        BERT_BASE,
        targets.map((t) => member(BERT_BASE, 'ziplm', t)),
      ),
    );
    const texts = allElements(parseXml(svgs[STRUCTURE_SVG]!))
      .filter((e) => e.name === 'text')
      .map((e) => e.text);
    for (const t of targets) expect(texts).toContain(`${t.toFixed(2)}× target`);
    expect(texts.filter((t) => t.endsWith('…'))).toEqual([]);
  });
});
