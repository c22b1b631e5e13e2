// The paper's Figure 5 for this project: accuracy against end-to-end speedup over the dense FP32 model,
// for FP32 ZipLM, INT8 ZipLM and INT8 ZipLM + unstructured sparsity, from three imported runs:
//
//   pnpm --filter @ziplm/docs results:compound-figure <fp32-run> <int8-run> <sparse-run>
//
// Each name is a run imported with `results:import` (its results.json is read from
// public/results/<name>/). The script writes results/compound-compression.svg and replaces the table
// between the `figure5:start` / `figure5:end` markers of results/compound-compression.md; the rest of
// that page is prose. Each report plots one run; this figure puts the three on one set of axes.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRunResults, type MemberResult, type RunResults } from '@ziplm/pipeline';
import { DOCS_ROOT } from './gen.ts';

interface Series {
  readonly label: string;
  readonly colour: string;
  readonly points: ReadonlyArray<{ readonly speedup: number; readonly metric: number }>;
}

function readRun(name: string): RunResults {
  const results = JSON.parse(readFileSync(join(DOCS_ROOT, 'public', 'results', name, 'results.json'), 'utf8')) as RunResults;
  checkRunResults(results);
  return results;
}

/** The speedup a member reached: measured when it was re-timed, else the table's prediction. */
const speedupOf = (m: MemberResult) => m.measuredSpeedup ?? m.predictedSpeedup;

/** What a member ships: an FP32 member's metric, or a compound member's shipped INT8 graph's. */
const shippedMetric = (m: MemberResult) => (m.compound ? m.compound.metrics[m.compound.shipped] : m.metric);

function series(label: string, colour: string, results: RunResults): Series {
  const points = results.members
    .map((m) => ({ speedup: speedupOf(m), metric: shippedMetric(m) }))
    .filter((p): p is { speedup: number; metric: number } => p.metric !== undefined)
    .sort((a, b) => a.speedup - b.speedup);
  return { label, colour, points };
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One plot: metric (linear) against speedup (log scale), one polyline with markers per series. */
export function figureSvg(all: readonly Series[], yLabel: string, dense: number | undefined): string {
  const width = 640;
  const height = 400;
  const left = 60;
  const right = 190;
  const top = 20;
  const bottom = 50;
  const xs = all.flatMap((s) => s.points.map((p) => p.speedup));
  const ys = all.flatMap((s) => s.points.map((p) => p.metric)).concat(dense === undefined ? [] : [dense]);
  const xMin = 1;
  const xMax = Math.max(2, ...xs) * 1.1;
  const yMin = Math.floor(Math.min(...ys) / 10) * 10;
  const yMax = Math.ceil(Math.max(...ys) / 10) * 10;
  // Coordinates to 0.1 px: exact enough for the eye, and the file stays readable in a diff.
  const round = (v: number) => Math.round(v * 10) / 10;
  const x = (v: number) => round(left + ((Math.log(v) - Math.log(xMin)) / (Math.log(xMax) - Math.log(xMin))) * (width - left - right));
  const y = (v: number) => round(top + (1 - (v - yMin) / (yMax - yMin)) * (height - top - bottom));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  for (const tick of [1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32].filter((t) => t <= xMax)) {
    out.push(`<line x1="${x(tick)}" y1="${top}" x2="${x(tick)}" y2="${height - bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x(tick)}" y="${height - bottom + 16}" text-anchor="middle">${tick}×</text>`);
  }
  for (let tick = yMin; tick <= yMax; tick += 10) {
    out.push(`<line x1="${left}" y1="${y(tick)}" x2="${width - right}" y2="${y(tick)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`);
  }
  out.push(`<rect x="${left}" y="${top}" width="${width - left - right}" height="${height - top - bottom}" fill="none" stroke="#888"/>`);
  out.push(
    `<text x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">end-to-end speedup over the dense FP32 model (measured, log scale)</text>`,
  );
  out.push(`<text transform="translate(16 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  if (dense !== undefined)
    out.push(`<line x1="${left}" y1="${y(dense)}" x2="${width - right}" y2="${y(dense)}" stroke="#444" stroke-dasharray="4 3"/>`);
  for (const s of all) {
    out.push(
      `<polyline fill="none" stroke="${s.colour}" stroke-width="2" points="${s.points.map((p) => `${x(p.speedup)},${y(p.metric)}`).join(' ')}"/>`,
    );
    for (const p of s.points) out.push(`<circle cx="${x(p.speedup)}" cy="${y(p.metric)}" r="3.5" fill="${s.colour}"/>`);
  }
  const legend = [
    ...all.map((s) => ({ label: s.label, colour: s.colour, dashed: false })),
    ...(dense === undefined ? [] : [{ label: 'dense FP32', colour: '#444', dashed: true }]),
  ];
  legend.forEach((entry, i) => {
    const ly = top + 14 + i * 20;
    out.push(
      `<line x1="${width - right + 12}" y1="${ly}" x2="${width - right + 36}" y2="${ly}" stroke="${entry.colour}" stroke-width="2"${entry.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    out.push(`<text x="${width - right + 42}" y="${ly + 4}">${escapeXml(entry.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const fmtSpeedup = (m: MemberResult | undefined) => {
  if (!m) return '—';
  const interval = m.verification?.interval;
  const value = `${speedupOf(m).toFixed(2)}×`;
  return interval ? `${value} (${interval[0].toFixed(2)}–${interval[1].toFixed(2)})` : `${value} (predicted)`;
};
const fmtMetric = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2));

/** The page's table: one row per target, the three runs side by side. */
export function figureTable(fp32: RunResults, int8: RunResults, sparse: RunResults): string {
  const targets = [...new Set([...fp32.members, ...int8.members, ...sparse.members].map((m) => m.target))].sort((a, b) => a - b);
  const at = (r: RunResults, t: number) => r.members.find((m) => m.target === t);
  const sparsity = sparse.members.find((m) => m.compound)?.compound?.sparsity;
  const lines = [
    `| target | FP32 ZipLM: speedup | accuracy | INT8 ZipLM: speedup | FP32 (same structure) | INT8 RTN | INT8 GPTQ | INT8 + ${sparsity === undefined ? '' : `${(100 * sparsity).toFixed(0)}% `}sparsity: speedup | FP32 + sparsity | sparse INT8 GPTQ |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of targets) {
    const f = at(fp32, t);
    const q = at(int8, t);
    const s = at(sparse, t);
    lines.push(
      `| ${t}× | ${fmtSpeedup(f)} | ${fmtMetric(f?.metric)} | ${fmtSpeedup(q)} | ${fmtMetric(q?.compound?.metrics.fp32)} | ${fmtMetric(q?.compound?.metrics.rtn)} | ${fmtMetric(q?.compound?.metrics.gptq)} | ${fmtSpeedup(s)} | ${fmtMetric(s?.compound?.metrics.sparse)} | ${fmtMetric(s?.compound?.metrics.gptq)} |`,
    );
  }
  return lines.join('\n');
}

function main(): void {
  const [fp32Name, int8Name, sparseName] = process.argv.slice(2);
  if (!fp32Name || !int8Name || !sparseName) throw new Error('usage: compound-figure.ts <fp32-run> <int8-run> <sparse-run>');
  const fp32 = readRun(fp32Name);
  const int8 = readRun(int8Name);
  const sparse = readRun(sparseName);
  const sparsity = sparse.members.find((m) => m.compound)?.compound?.sparsity ?? 0;
  const svg = figureSvg(
    [
      series('FP32 ZipLM', '#1f77b4', fp32),
      series('INT8 ZipLM (GPTQ)', '#d62728', int8),
      series(`INT8 + ${(100 * sparsity).toFixed(0)}% sparse`, '#2ca02c', sparse),
    ],
    fp32.metric.label,
    fp32.dense.metric,
  );
  writeFileSync(join(DOCS_ROOT, 'results', 'compound-compression.svg'), svg);
  const pageFile = join(DOCS_ROOT, 'results', 'compound-compression.md');
  const page = readFileSync(pageFile, 'utf8');
  const marked = /<!-- figure5:start[^>]*-->[\s\S]*<!-- figure5:end -->/;
  if (!marked.test(page)) throw new Error(`${pageFile}: no figure5:start / figure5:end markers`);
  writeFileSync(
    pageFile,
    page.replace(
      marked,
      `<!-- figure5:start (written by scripts/compound-figure.ts) -->\n\n${figureTable(fp32, int8, sparse)}\n\n<!-- figure5:end -->`,
    ),
  );
}

main();
