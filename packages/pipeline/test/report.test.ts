// renderReport: report.md and the two SVG plots from RunResults. Asserts structure and key strings
// (no snapshots): every member appears, numbers are formatted as documented, missing values show as
// "—", the plots are well-formed XML, user text is escaped, and the output is deterministic.

import { describe, expect, it } from 'vitest';
import { PipelineError } from '../src/errors.js';
import { ACCURACY_SVG, ReportError, STRUCTURE_SVG, renderReport } from '../src/report/index.js';
import type { MemberResult, RunResults } from '../src/results.js';
import { headings, section, tables } from './fixtures/report/markdown.js';
import { BERT_BASE, GPT2_SMALL, manyMemberRun, member, perplexityRun, run, threeMethodRun } from './fixtures/report/runs.js';
import { type XmlElement, allElements, parseXml, textContent } from './fixtures/report/xml.js';

/** Parses an SVG and checks what every plot must satisfy; returns its elements. */
function checkSvg(svg: string): XmlElement[] {
  const root = parseXml(svg);
  expect(root.name).toBe('svg');
  expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
  const viewBox = root.attributes.viewBox!.split(' ').map(Number);
  expect(viewBox.slice(0, 2)).toEqual([0, 0]);
  expect(viewBox[2]).toBe(Number(root.attributes.width));
  expect(viewBox[3]).toBe(Number(root.attributes.height));
  expect(root.children[0]!.name).toBe('title');
  const els = allElements(root);
  // Self-contained: no scripts, no external resources, no embedded HTML.
  for (const e of els) {
    expect(['script', 'foreignObject', 'image', 'style', 'use', 'a']).not.toContain(e.name);
    for (const key of Object.keys(e.attributes)) expect(key).not.toMatch(/href|^on/i);
  }
  expect(svg).not.toMatch(/NaN|undefined|Infinity|url\(|@import/);
  expect(svg.endsWith('</svg>\n')).toBe(true);
  return els;
}

/** Tooltips of plotted member points ("…: target 2.00×, …"). */
function pointTitles(els: readonly XmlElement[]): string[] {
  return els.filter((e) => e.name === 'title' && / target \d/.test(e.text)).map((e) => e.text);
}

function svgTexts(els: readonly XmlElement[]): string[] {
  return els.filter((e) => e.name === 'text').map(textContent);
}

// Issue 13 split the per-method table (10 columns) into two of 7, so that neither hides columns
// behind horizontal scrolling: speed and metric first, then time and size.
const METHOD_TABLE_HEADER = ['target', 'predicted', 'measured', 'deviation', 'status', 'accuracy', 'Δ vs dense'];
const SIZE_TABLE_HEADER = ['target', 'time (median)', 'heads kept', 'FFN kept', 'layer params (M)', 'total params (M)', 'model.onnx'];

describe('renderReport', () => {
  it('is deterministic and independent of a JSON round trip', () => {
    const results = threeMethodRun();
    const a = renderReport(results);
    const b = renderReport(results);
    const c = renderReport(JSON.parse(JSON.stringify(results)) as RunResults);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(Object.keys(a.svgs).sort()).toEqual([ACCURACY_SVG, STRUCTURE_SVG].sort());
    expect(a.markdown).not.toMatch(/NaN|undefined|Infinity|\[object/);
  });

  it('titles the report with task, model shape, mode and environment', () => {
    const { markdown } = renderReport(threeMethodRun());
    expect(markdown.startsWith('# ZipLM run report: sst2\n')).toBe(true);
    expect(markdown).toContain('- **model:** BERT, 12 layers, hidden size 768, 12 heads and FFN 3072 per layer');
    expect(markdown).toContain('- **mode:** one-shot');
    expect(markdown).toContain('- **environment:** onnxruntime-node 1.30.0 cpu, 2 threads');
    expect(markdown).toContain('## How to read this');
    const gradual = renderReport({ ...threeMethodRun(), mode: 'gradual' }).markdown;
    expect(gradual).toContain('- **mode:** gradual (targets in ascending order, fine-tuned with distillation');
  });

  it('shows the dense baseline and links both plots relatively', () => {
    const { markdown } = renderReport(threeMethodRun());
    const dense = tables(section(markdown, '## Dense baseline'))[0]!;
    expect(dense[0]).toEqual(['accuracy', 'time (median)', 'layer params (M)', 'heads', 'FFN neurons']);
    expect(dense[1]).toEqual(['91.3', '27.31 ms', '85.02', '144', '36864']);
    expect(markdown).toContain(`](${ACCURACY_SVG})`);
    expect(markdown).toContain(`](${STRUCTURE_SVG})`);
  });

  it('has a table per method with every member, ordered by target, formatted as documented', () => {
    const results = threeMethodRun();
    const { markdown } = renderReport(results);
    const perMethod = section(markdown, '## Results per method');
    expect(headings(perMethod, 3)).toEqual(['ZipLM', 'Magnitude (L2, no update)', 'Uniform per layer']);
    for (const [heading, method] of [
      ['### ZipLM', 'ziplm'],
      ['### Magnitude (L2, no update)', 'magnitude'],
      ['### Uniform per layer', 'uniform'],
    ] as const) {
      const [header, ...rows] = tables(section(perMethod, heading))[0]!;
      expect(header).toEqual(METHOD_TABLE_HEADER);
      const expected = results.members.filter((m) => m.method === method).map((m) => `${m.target.toFixed(2)}×`);
      expect(rows.map((r) => r[0])).toEqual(expected);
      for (const r of rows) expect(r).toHaveLength(METHOD_TABLE_HEADER.length);
      const [sizeHeader, ...sizeRows] = tables(section(perMethod, heading))[1]!;
      expect(sizeHeader).toEqual(SIZE_TABLE_HEADER);
      expect(sizeRows.map((r) => r[0])).toEqual(expected);
    }
    // One row checked cell by cell against the fixture's numbers.
    const m = results.members.find((x) => x.method === 'ziplm' && x.target === 2)!;
    const row = tables(section(perMethod, '### ZipLM'))[0]!.find((r) => r[0] === '2.00×')!;
    expect(row).toEqual([
      '2.00×',
      `${m.predictedSpeedup.toFixed(2)}×`,
      `${m.measuredSpeedup!.toFixed(2)}×`,
      `${(m.deviation! * 100).toFixed(2)}%`.replace(/^(?!-)/, '+'),
      'pass',
      m.metric!.toFixed(1),
      (m.metric! - 91.3).toFixed(1),
    ]);
    const sizeRow = tables(section(perMethod, '### ZipLM'))[1]!.find((r) => r[0] === '2.00×')!;
    expect(sizeRow).toEqual([
      '2.00×',
      '—',
      `${m.layerHeads.reduce((a, b) => a + b)} / 144`,
      `${((m.layerIntermediate.reduce((a, b) => a + b) / 36864) * 100).toFixed(1)}%`,
      (m.layerParameters / 1e6).toFixed(2),
      '—',
      '—',
    ]);
  });

  it('plots every member with a metric, the dense point and one legend entry per series', () => {
    const results = threeMethodRun();
    const els = checkSvg(renderReport(results).svgs[ACCURACY_SVG]!);
    const titles = pointTitles(els);
    expect(titles).toHaveLength(results.members.length);
    for (const mem of results.members) {
      const label = { ziplm: 'ZipLM', magnitude: 'Magnitude (L2, no update)', uniform: 'Uniform per layer' }[mem.method];
      expect(titles).toContain(
        `${label}: target ${mem.target.toFixed(2)}×, measured ${mem.measuredSpeedup!.toFixed(2)}×, accuracy ${mem.metric!.toFixed(1)}`,
      );
    }
    const texts = svgTexts(els);
    expect(texts).toContain('dense model (1×): 91.3');
    expect(texts).toContain('ZipLM');
    expect(texts).toContain('Magnitude (L2, no update)');
    expect(texts).toContain('Uniform per layer');
    // The full label, not truncated: a higher-is-better axis does not spell out its direction.
    expect(texts).toContain('SST-2 dev accuracy (%)');
    expect(texts.some((t) => t.endsWith('…'))).toBe(false);
    expect(texts).toContain('measured speedup over the dense model');
    // Three series lines (paths with stroke-width 2 and a series colour).
    const lines = els.filter((e) => e.name === 'path' && e.attributes['stroke-width'] === '2' && e.attributes.d!.split('L').length === 4);
    expect(lines.map((l) => l.attributes.stroke).sort()).toEqual(['#0072B2', '#009E73', '#D55E00']);
  });

  it('draws kept heads and FFN neurons per layer for each ZipLM target', () => {
    const results = threeMethodRun();
    const { markdown, svgs } = renderReport(results);
    const els = checkSvg(svgs[STRUCTURE_SVG]!);
    const texts = svgTexts(els);
    expect(texts).toContain('attention heads kept per layer');
    expect(texts).toContain('FFN neurons kept per layer');
    for (const t of ['1.50× target', '2.00× target', '3.00× target', '4.00× target']) expect(texts).toContain(t);
    const ziplm = results.members.filter((m) => m.method === 'ziplm');
    const titles = els.filter((e) => e.name === 'title' && / target: layer \d+, \d+$/.test(e.text)).map((e) => e.text);
    // One point per layer per target in each of the two panels.
    expect(titles).toHaveLength(ziplm.length * 12 * 2);
    for (const m of ziplm) {
      m.layerHeads.forEach((h, l) => {
        expect(titles).toContain(`${m.target.toFixed(2)}× target: layer ${l + 1}, ${h}`);
      });
      m.layerIntermediate.forEach((n, l) => {
        expect(titles).toContain(`${m.target.toFixed(2)}× target: layer ${l + 1}, ${n}`);
      });
    }
    expect(els.some((e) => e.name === 'title' && e.text === 'dense model: 12 heads per layer')).toBe(true);
    expect(els.some((e) => e.name === 'title' && e.text === 'dense model: 3072 FFN neurons per layer')).toBe(true);
    expect(markdown).toContain('for each ZipLM target');
  });

  it('has a target-vs-achieved table (Table 5) with the largest |deviation| and the failures', () => {
    const results = run(BERT_BASE, [
      member(BERT_BASE, 'ziplm', 2, { achieved: 0.99 }),
      member(BERT_BASE, 'ziplm', 4, { achieved: 1.0312 }),
      member(BERT_BASE, 'magnitude', 4, { achieved: 0.95, status: 'fail' }),
    ]);
    const text = section(renderReport(results).markdown, '## Target vs achieved speedup');
    const [header, ...rows] = tables(text)[0]!;
    expect(header).toEqual([
      'target',
      'ZipLM measured',
      'deviation',
      'measured/predicted',
      'Magnitude (L2, no update) measured',
      'deviation',
      'measured/predicted',
    ]);
    // Predicted is target × 1.004 in the fixture; measured/predicted is computed when not stored.
    expect(rows).toEqual([
      ['2.00×', '1.98×', '-1.00%', '-1.39%', '—', '—', '—'],
      ['4.00×', '4.12×', '+3.12%', '+2.71%', '3.80×', '-5.00%', '-5.38%'],
    ]);
    expect(text).toContain('Largest |deviation|: **5.00%** (Magnitude (L2, no update), target 4.00×).');
    expect(text).toContain('Status: 2 pass, 1 fail. Failed: Magnitude (L2, no update) at 4.00×.');
  });

  it('shows the verification diagnostics: uncertainty, measured/predicted and the dense drift', () => {
    const verification = (predictionError: number, denseDrift: number) => ({
      uncertainty: 0.0031,
      predictionError,
      denseDrift,
      denseMs: 27.58,
      memberMs: 6.7,
      rounds: 40,
    });
    const results = run(BERT_BASE, [
      { ...member(BERT_BASE, 'ziplm', 2, { achieved: 0.99 }), verification: verification(-0.0123, 0.0099) },
      { ...member(BERT_BASE, 'ziplm', 4, { achieved: 1.0312 }), verification: verification(0.0271, 0.0099) },
    ]);
    const text = section(renderReport(results).markdown, '## Target vs achieved speedup');
    const [header, ...rows] = tables(text)[0]!;
    expect(header).toEqual(['target', 'ZipLM measured', 'deviation', 'measured/predicted']);
    // The stored predictionError wins over measured / predicted recomputed from the rounded fields.
    expect(rows).toEqual([
      ['2.00×', '1.98× ±0.31%', '-1.00%', '-1.23%'],
      ['4.00×', '4.12× ±0.31%', '+3.12%', '+2.71%'],
    ]);
    expect(text).toContain('Dense drift: during verification the dense model took 27.58 ms, +0.99% vs the latency table (27.31 ms).');
    // Members verified in different sessions: the range.
    const twoSessions = run(BERT_BASE, [
      { ...member(BERT_BASE, 'ziplm', 2), verification: verification(0, -0.005) },
      { ...member(BERT_BASE, 'ziplm', 4), verification: { ...verification(0, 0.012), denseMs: 27.64 } },
    ]);
    expect(section(renderReport(twoSessions).markdown, '## Target vs achieved speedup')).toContain(
      'over 2 verification sessions: from -0.50% to +1.20%.',
    );
    // Older results without diagnostics: no drift line.
    expect(section(renderReport(run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2)])).markdown, '## Target vs achieved speedup')).not.toContain(
      'Dense drift',
    );
  });

  it('computes the deviation from the measured speedup when only that was stored', () => {
    const m = member(BERT_BASE, 'ziplm', 4, { achieved: 1.05 });
    const { deviation: _dropped, ...rest } = m;
    const { markdown } = renderReport(run(BERT_BASE, [rest as MemberResult]));
    const row = tables(section(markdown, '### ZipLM'))[0]![1]!;
    expect(row[3]).toBe('+5.00%');
  });

  it('reports where the pruning went and whether FFN was pruned harder than heads', () => {
    const { markdown } = renderReport(threeMethodRun());
    const text = section(markdown, '## Where the pruning went');
    expect(text).toContain('**Holds in this run:** all 4 ZipLM members keep a smaller share of their FFN neurons than of their heads.');
    const [header, ...rows] = tables(text)[0]!;
    expect(header).toEqual([
      'target',
      'speedup',
      'heads kept',
      'FFN neurons kept',
      'layers without attention',
      'layers without FFN',
      'FFN pruned harder',
    ]);
    expect(rows).toHaveLength(4);
    expect(rows[1]![2]).toBe('84.7% (122 / 144)');
    expect(rows[1]![3]).toBe('40.0% (14742 / 36864)');
    expect(rows.every((r) => r[6] === 'yes')).toBe(true);
  });

  it('says when FFN-harder does not hold, or holds only for some members', () => {
    const heavyHeads = (target: number): MemberResult =>
      member(BERT_BASE, 'ziplm', target, { heads: Array(12).fill(3), ffn: Array(12).fill(3000) });
    const none = section(renderReport(run(BERT_BASE, [heavyHeads(2), heavyHeads(3)])).markdown, '## Where the pruning went');
    expect(none).toContain('**Does not hold in this run:**');
    const some = section(
      renderReport(run(BERT_BASE, [heavyHeads(2), member(BERT_BASE, 'ziplm', 3), member(BERT_BASE, 'ziplm', 4)])).markdown,
      '## Where the pruning went',
    );
    expect(some).toContain('**Holds for 2 of 3 ZipLM members**; not at 2.00×.');
    // Equal shares are not "harder".
    const tie = member(BERT_BASE, 'ziplm', 2, { heads: Array(12).fill(6), ffn: Array(12).fill(1536) });
    expect(section(renderReport(run(BERT_BASE, [tie])).markdown, '## Where the pruning went')).toContain('**Does not hold in this run:**');
  });

  it('shows unmeasured members as "—" and plots them hollow at the predicted speedup', () => {
    const results = run(BERT_BASE, [
      member(BERT_BASE, 'ziplm', 2, { measured: false }),
      member(BERT_BASE, 'ziplm', 4),
      member(BERT_BASE, 'uniform', 4, { measured: false }),
    ]);
    const { markdown, svgs } = renderReport(results);
    const rows = tables(section(markdown, '### ZipLM'))[0]!;
    expect(rows[1]!.slice(0, 5)).toEqual(['2.00×', '2.01×', '—', '—', '—']);
    expect(section(markdown, '## Notes')).toContain('2 members were not re-timed (verification skipped)');
    const table5 = section(markdown, '## Target vs achieved speedup');
    expect(tables(table5)[0]!.map((r) => r[0])).toEqual(['target', '4.00×']);
    expect(table5).toContain('Status: 1 pass, 0 fail, 2 not verified.');
    expect(section(markdown, '## Where the pruning went')).toContain('| 2.00× | 2.01× (predicted) |');

    const els = checkSvg(svgs[ACCURACY_SVG]!);
    const hollow = els.filter((e) => e.attributes.fill === '#ffffff' && e.attributes.stroke !== undefined && e.name !== 'rect');
    // Two hollow data points plus the hollow legend sample.
    expect(hollow).toHaveLength(3);
    expect(pointTitles(els)).toContain('ZipLM: target 2.00×, predicted (not measured) 2.01×, accuracy 90.1');
    const texts = svgTexts(els);
    expect(texts).toContain('hollow: predicted, not measured');
    expect(texts).toContain('speedup over the dense model (measured; hollow = predicted)');
  });

  it('says so when no member was re-timed', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { measured: false })]);
    const text = section(renderReport(results).markdown, '## Target vs achieved speedup');
    expect(text).toContain('No member was re-timed');
    expect(tables(text)).toHaveLength(0);
  });

  it('lists members without a metric but does not plot them; handles a run with no metric at all', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { metric: null }), member(BERT_BASE, 'ziplm', 3)]);
    const { markdown, svgs } = renderReport(results);
    const rows = tables(section(markdown, '### ZipLM'))[0]!;
    expect(rows[1]![5]).toBe('—');
    expect(rows[1]![6]).toBe('—');
    expect(section(markdown, '## Notes')).toContain('1 member has no accuracy (evaluation skipped)');
    expect(pointTitles(checkSvg(svgs[ACCURACY_SVG]!))).toHaveLength(1);

    const none = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { metric: null })], { dense: { timeMs: 27.31 } });
    const out = renderReport(none);
    expect(section(out.markdown, '## Notes')).toContain('The dense model has no accuracy: Δ vs dense is —.');
    expect(tables(section(out.markdown, '## Dense baseline'))[0]![1]![0]).toBe('—');
    const texts = svgTexts(checkSvg(out.svgs[ACCURACY_SVG]!));
    expect(texts).toContain('no metric values: evaluation was skipped for every member');
    expect(texts).toContain('ZipLM: no metric to plot');
  });

  it('shows a non-finite metric as such and leaves it out of the plot', () => {
    const results = run(
      GPT2_SMALL,
      [member(GPT2_SMALL, 'ziplm', 2, { metric: 40 }), member(GPT2_SMALL, 'ziplm', 3, { metric: Infinity })],
      {
        metric: perplexityRun().metric,
        dense: { metric: 30.5, timeMs: 4.2 },
      },
    );
    const { markdown, svgs } = renderReport(results);
    expect(tables(section(markdown, '### ZipLM'))[0]![2]![5]).toBe('∞');
    expect(section(markdown, '## Notes')).toContain('ZipLM at target 3.00× has a non-finite perplexity (∞): not plotted.');
    expect(pointTitles(checkSvg(svgs[ACCURACY_SVG]!))).toHaveLength(1);
  });

  it('says "lower is better" for perplexity and prints it with 2 decimals', () => {
    const results = perplexityRun();
    const { markdown, svgs } = renderReport(results);
    expect(markdown).toContain('- **metric:** WikiText-2 perplexity (lower is better)');
    expect(markdown).toContain('## Perplexity vs speedup');
    const rows = tables(section(markdown, '### ZipLM'))[0]!;
    expect(rows[0]![5]).toBe('perplexity');
    const first = results.members[0]!;
    expect(rows[1]![5]).toBe(first.metric!.toFixed(2));
    expect(rows[1]![6]).toBe(`+${(first.metric! - 30.5).toFixed(2)}`);
    expect(markdown).toContain('- **model:** GPT2, 4 layers, hidden size 256');
    const texts = svgTexts(checkSvg(svgs[ACCURACY_SVG]!));
    expect(texts).toContain('WikiText-2 perplexity, lower is better');
    expect(texts).toContain('dense model (1×): 30.50');
    checkSvg(svgs[STRUCTURE_SVG]!);
  });

  it('renders a single-member run', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 3)]);
    const { markdown, svgs } = renderReport(results);
    expect(tables(section(markdown, '### ZipLM'))[0]!).toHaveLength(2);
    expect(markdown).toContain('**Holds in this run:** the ZipLM member keeps');
    const els = checkSvg(svgs[ACCURACY_SVG]!);
    expect(pointTitles(els)).toHaveLength(1);
    // A single point has a marker but no line (the legend sample is drawn with H, not L).
    const blue = els.filter((e) => e.name === 'path' && e.attributes.stroke === '#0072B2');
    expect(blue.filter((e) => e.attributes.d!.includes('L'))).toHaveLength(0);
    expect(blue.filter((e) => e.attributes.d!.includes('H'))).toHaveLength(1);
    expect(els.filter((e) => e.name === 'circle' && e.attributes.fill === '#0072B2')).toHaveLength(2); // point + legend
    checkSvg(svgs[STRUCTURE_SVG]!);
  });

  it('renders many members: three methods, 14 targets, two ZipLM variants', () => {
    const results = manyMemberRun();
    const { markdown, svgs } = renderReport(results);
    expect(headings(section(markdown, '## Results per method'), 3)).toEqual([
      'ZipLM',
      'ZipLM (no token distillation)',
      'ZipLM (λ3 = 0.5, 2,000 sentences)',
      'Magnitude (L2, no update)',
      'Uniform per layer',
    ]);
    const table5 = tables(section(markdown, '## Target vs achieved speedup'))[0]!;
    expect(table5).toHaveLength(15);
    // Issue 13: five series no longer share one 16-column table; two per table (7 columns), three
    // tables, then the |deviation| table (a column per series).
    expect(table5[0]).toHaveLength(7);
    const all5 = tables(section(markdown, '## Target vs achieved speedup'));
    expect(all5.map((t) => t[0]!.length)).toEqual([7, 7, 4, 6]);
    expect(section(markdown, '## Where the pruning went')).toContain('all 42 ZipLM members');
    const acc = checkSvg(svgs[ACCURACY_SVG]!);
    expect(pointTitles(acc)).toHaveLength(results.members.length);
    // Variants get their own colour and a dashed line.
    const dashed = acc.filter(
      (e) => e.name === 'path' && e.attributes['stroke-dasharray'] === '6 3' && e.attributes.d!.split('L').length === 14,
    );
    expect(dashed).toHaveLength(2);
    const structure = checkSvg(svgs[STRUCTURE_SVG]!);
    // The structure plot shows ZipLM's main setting only: 14 targets.
    expect(svgTexts(structure).filter((t) => / target$/.test(t))).toHaveLength(14);
    expect(Number(parseXml(svgs[STRUCTURE_SVG]!).attributes.height)).toBeGreaterThanOrEqual(56 + 15 * 20);
  });

  it('lists the main setting before variants even when a variant comes first', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2, { variant: 'no token distillation' }), member(BERT_BASE, 'ziplm', 2)]);
    expect(headings(renderReport(results).markdown, 3)).toEqual(['ZipLM', 'ZipLM (no token distillation)']);
  });

  it('escapes special characters in task, variant, environment and notes', () => {
    const variant = 'a|b <script>alert("x")</script> & *bold* _i_';
    const task = `sst2 <b>"&'</b> | x`;
    const results = run(BERT_BASE, [member(BERT_BASE, 'ziplm', 2), member(BERT_BASE, 'magnitude', 2, { variant })], {
      task,
      environment: 'ort <1.30> & co',
      notes: ['# no dataset found\nsecond line', 'ZIPLM_DATA_DIR [link](http://x) `code`'],
    });
    const { markdown, svgs } = renderReport(results);
    expect(markdown).not.toContain('<script');
    expect(markdown).not.toContain('<b>');
    expect(markdown.split('\n')[0]).toBe('# ZipLM run report: sst2 &lt;b&gt;"&amp;\'&lt;/b&gt; \\| x');
    const heading = `### Magnitude (L2, no update) (a\\|b &lt;script&gt;alert("x")&lt;/script&gt; &amp; \\*bold\\* \\_i\\_)`;
    expect(markdown).toContain(heading);
    for (const row of tables(section(markdown, heading))[0]!) expect(row).toHaveLength(METHOD_TABLE_HEADER.length);
    const table5 = tables(section(markdown, '## Target vs achieved speedup'))[0]!;
    for (const row of table5) expect(row).toHaveLength(7);
    const notes = section(markdown, '## Notes');
    expect(notes).toContain('- \\# no dataset found second line');
    expect(notes).toContain('- ZIPLM\\_DATA\\_DIR \\[link\\](http://x) \\`code\\`');
    expect(markdown).toContain('- **environment:** ort &lt;1.30&gt; &amp; co');

    for (const svg of Object.values(svgs)) {
      expect(svg).not.toContain('<script');
      expect(svg).not.toContain('<b>');
      checkSvg(svg);
    }
    const acc = checkSvg(svgs[ACCURACY_SVG]!);
    // The decoded document holds the original text (a browser shows it as typed).
    expect(acc.find((e) => e.name === 'title')!.text).toBe(`${task}: accuracy vs speedup (one-shot, BERT 12×768)`);
    expect(pointTitles(acc).some((t) => t.startsWith(`Magnitude (L2, no update) (${variant}): target 2.00×`))).toBe(true);
  });

  it('falls back to the first method in a run without ZipLM', () => {
    const results = run(BERT_BASE, [member(BERT_BASE, 'magnitude', 2), member(BERT_BASE, 'magnitude', 3)]);
    const { markdown, svgs } = renderReport(results);
    const text = section(markdown, '## Where the pruning went');
    expect(text).toContain('This run has no ZipLM members, so the observation is not checked here.');
    expect(text).toContain('for each Magnitude (L2, no update) target (no ZipLM members in this run)');
    const els = checkSvg(svgs[STRUCTURE_SVG]!);
    expect(els[1]!.text).toBe('sst2: kept structure per layer, Magnitude (L2, no update) (BERT 12×768)');
  });

  it('renders a run without members', () => {
    const { markdown, svgs } = renderReport(run(BERT_BASE, []));
    expect(section(markdown, '## Notes')).toContain('This run has no pruned members yet.');
    expect(markdown).not.toContain('## Results per method');
    expect(svgTexts(checkSvg(svgs[STRUCTURE_SVG]!))).toContain('no members in this run');
    checkSvg(svgs[ACCURACY_SVG]!);
  });

  it('numbers layers from 1 and thins the layer axis for deep models', () => {
    const deep = { ...BERT_BASE, numLayers: 48 };
    const { svgs } = renderReport(run(deep, [member(deep, 'ziplm', 2)]));
    const texts = svgTexts(checkSvg(svgs[STRUCTURE_SVG]!));
    for (const tick of ['1', '5', '10', '45', '48']) expect(texts).toContain(tick);
    expect(texts).not.toContain('47');
  });
});

describe('renderReport rejects inconsistent results', () => {
  const base = threeMethodRun();
  const withMember = (patch: Partial<MemberResult>): RunResults => ({
    ...base,
    members: [{ ...base.members[0]!, ...patch }, ...base.members.slice(1)],
  });

  it.each([
    ['a short layerHeads', withMember({ layerHeads: [12, 12] }), 'members[0].layerHeads', /has 2 entries, the model has 12 layers/],
    ['too many heads', withMember({ layerHeads: [13, ...Array(11).fill(12)] }), 'members[0].layerHeads[0]', /\[0, 12\]/],
    [
      'a fractional FFN size',
      withMember({ layerIntermediate: [1.5, ...Array(11).fill(3072)] }),
      'members[0].layerIntermediate[0]',
      /integer/,
    ],
    ['a zero predicted speedup', withMember({ predictedSpeedup: 0 }), 'members[0].predictedSpeedup', /> 0/],
    ['a NaN target', withMember({ target: Number.NaN }), 'members[0].target', /finite/],
    ['an unknown method', withMember({ method: 'random' as never }), 'members[0].method', /ziplm, magnitude, uniform/],
    ['a bad status', withMember({ status: 'ok' as never }), 'members[0].status', /pass/],
    ['another format', { ...base, format: 'something' as never }, 'format', /ziplm-run-results/],
    ['a zero dense time', { ...base, dense: { metric: 91, timeMs: 0 } }, 'dense.timeMs', /> 0/],
    ['a verification that is not an object', withMember({ verification: 3 as never }), 'members[0].verification', /object/],
    [
      'a verification without dense time',
      withMember({ verification: { uncertainty: 0.01, memberMs: 3, rounds: 20 } as never }),
      'members[0].verification.denseMs',
      /> 0/,
    ],
    [
      'a negative uncertainty',
      withMember({ verification: { uncertainty: -1, denseMs: 3, memberMs: 1, rounds: 20 } }),
      'members[0].verification.uncertainty',
      />= 0/,
    ],
  ])('%s', (_name, results, field, problem) => {
    let error: unknown;
    try {
      renderReport(results);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ReportError);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as ReportError).field).toBe(field);
    expect((error as ReportError).message).toMatch(problem);
    expect((error as ReportError).message).toContain(`"${field}"`);
  });
});
