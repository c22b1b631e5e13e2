// report.md of a run directory: what was pruned, how fast each member is (target, predicted by the
// latency table, measured by re-timing), what it costs in task metric, and where the pruning went.
// Pure: RunResults in, text out; writeReport (write.ts) is the only IO.

import { MAX_RETARGET_CORRECTION } from '../defaults.js';
import type { RunResults } from '../results.js';
import {
  MISSING,
  escapeMarkdown as md,
  formatDeviation,
  formatMetric,
  formatMetricDelta,
  formatMillions,
  formatMs,
  formatShare,
  formatSpeedup,
  isPercentMetric,
} from './format.js';
import { type MemberView, type SeriesView, METHOD_ORDER, METHOD_STYLE, checkRunResults, groupSeries } from './model.js';
import { ACCURACY_SVG, STRUCTURE_SVG, renderAccuracyPlot, renderStructurePlot, structureSeries } from './plots.js';

/** File name of the report inside the run directory. */
export const REPORT_MD = 'report.md';

/** A rendered report: the Markdown and the SVG plots it links, by file name (relative to report.md). */
export interface RenderedReport {
  readonly markdown: string;
  /** `accuracy-vs-speedup.svg` and `structure.svg`. */
  readonly svgs: Readonly<Record<string, string>>;
}

/**
 * Renders report.md and its two plots from a run's results. Pure and deterministic: the same results
 * give byte-identical output (no clock, no randomness, no locale).
 * @throws {ReportError} when the results are inconsistent (e.g. a member's `layerHeads` does not
 *   have one entry per layer, a speedup is not a positive number).
 */
export function renderReport(results: RunResults): RenderedReport {
  checkRunResults(results);
  const series = groupSeries(results);
  const markdown = [
    header(results, series),
    howToRead(results),
    notes(results, series),
    denseBaseline(results),
    accuracySection(results),
    perMethod(results, series),
    targetVsAchieved(series),
    significance(results),
    structureSection(results, series),
  ]
    .filter((section) => section !== '')
    .join('\n\n');
  return {
    markdown: `${markdown}\n`,
    svgs: {
      [ACCURACY_SVG]: renderAccuracyPlot(results, series),
      [STRUCTURE_SVG]: renderStructurePlot(results, series),
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Helpers

type Align = 'left' | 'right';

/** A Markdown table; cells are already escaped/formatted. */
function table(headers: readonly string[], align: readonly Align[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(align.map((a) => (a === 'right' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

function modeText(mode: RunResults['mode']): string {
  return mode === 'oneshot'
    ? 'one-shot (pruned once, no fine-tuning after pruning)'
    : 'gradual (targets in ascending order, fine-tuned with distillation between pruning steps)';
}

function modelText(results: RunResults): string {
  const m = results.model;
  return (
    `${m.modelType === 'bert' ? 'BERT' : 'GPT2'}, ${m.numLayers} layers, hidden size ${m.hiddenSize}, ` +
    `${m.numHeads} heads and FFN ${m.intermediateSize} per layer, ${formatMillions(m.layerParameters)} M layer parameters`
  );
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------------------
// Sections

function header(results: RunResults, series: readonly SeriesView[]): string {
  const counts = series.map((s) => `${md(s.label)} ${s.members.length}`).join(', ');
  const rows = [
    ['task', md(results.task)],
    ['model', modelText(results)],
    ['mode', modeText(results.mode)],
    ['environment', md(results.environment)],
    ['metric', `${md(results.metric.label)} (${results.metric.higherIsBetter ? 'higher' : 'lower'} is better)`],
    ['members', results.members.length === 0 ? '0' : `${results.members.length}: ${counts}`],
  ];
  return `# ZipLM run report: ${md(results.task)}\n\n${rows.map(([k, v]) => `- **${k}:** ${v}`).join('\n')}`;
}

function howToRead(results: RunResults): string {
  const metric = results.metric;
  const direction = metric.higherIsBetter ? 'higher is better' : 'lower is better';
  const points = isPercentMetric(metric) ? ' (in points)' : '';
  return [
    '## How to read this',
    '',
    'Each member is the dense model pruned to a **target** speedup. The **predicted** speedup is what the ' +
      "latency table of this environment promises for the member's kept heads and FFN neurons; the **measured** " +
      'speedup comes from re-timing the exported member against the dense model, and **deviation** is ' +
      "measured / target − 1 (the paper's Table 5). **status** is `pass` when the measured speedup meets the " +
      `target within tolerance. **${md(metric.name)}** is the task metric (${direction}); **Δ vs dense** is the ` +
      `member's metric minus the dense model's${points}. **layer params** counts the parameters of the ` +
      `transformer layers only (embeddings and heads excluded, as in the paper's Table 6); **heads kept** is the ` +
      'total over all layers, **FFN kept** the share of FFN neurons left. Speedups are always relative to the ' +
      `dense model. Baselines use the same latency table and search: *magnitude* keeps the heads and neurons ` +
      'with the largest weight norm without updating weights; *uniform* keeps the same shape in every layer. ' +
      `${MISSING} marks a value that was not computed.`,
  ].join('\n');
}

function notes(results: RunResults, series: readonly SeriesView[]): string {
  const views = series.flatMap((s) => s.members.map((v) => ({ s, v })));
  const lines = results.notes.map((n) => md(n));
  const notTimed = views.filter(({ v }) => !v.speedupMeasured);
  if (notTimed.length > 0) {
    lines.push(
      `${plural(notTimed.length, 'member was', 'members were')} not re-timed (verification skipped): measured ` +
        `speedup, deviation and status are ${MISSING}, and the plot places ${notTimed.length === 1 ? 'it' : 'them'} ` +
        'at the predicted speedup with a hollow marker.',
    );
  }
  const noMetric = views.filter(({ v }) => v.member.metric === undefined || v.member.metric === null);
  if (noMetric.length > 0) {
    lines.push(
      `${plural(noMetric.length, 'member has', 'members have')} no ${md(results.metric.name)} (evaluation skipped): ` +
        `listed in the tables, not plotted.`,
    );
  }
  for (const { s, v } of views) {
    const m = v.member.metric;
    if (typeof m === 'number' && !Number.isFinite(m)) {
      lines.push(
        `${md(s.label)} at target ${formatSpeedup(v.member.target)} has a non-finite ${md(results.metric.name)} ` +
          `(${formatMetric(m, results.metric)}): not plotted.`,
      );
    }
  }
  const retargeted = views.filter(({ v }) => (v.member.attempts?.length ?? 0) > 0);
  if (retargeted.length > 0) {
    const detail = retargeted.map(({ s, v }) => {
      const tries = v.member
        .attempts!.map(
          (a) =>
            `searched ${formatSpeedup(a.searchTarget)}, predicted ${formatSpeedup(a.predictedSpeedup)}, measured ${formatSpeedup(a.measuredSpeedup)}`,
        )
        .join('; ');
      const now =
        v.member.searchTarget !== undefined ? `now searched ${formatSpeedup(v.member.searchTarget)}` : 'now searched at the target';
      return `${md(s.label)} ${formatSpeedup(v.member.target)} (${tries}; ${now})`;
    });
    lines.push(
      `${plural(retargeted.length, 'member was', 'members were')} searched again because a measured speedup missed the target by more than ` +
        `the tolerance: the new search target was target · predicted / measured, the table's error on the member divided out, bounded to a factor of ${MAX_RETARGET_CORRECTION} and never below 1 (its **predicted** column is for the new search target). ${detail.join('. ')}.`,
    );
  }
  if (results.dense.metric === undefined || results.dense.metric === null) {
    lines.push(`The dense model has no ${md(results.metric.name)}: Δ vs dense is ${MISSING}.`);
  }
  if (results.members.length === 0) lines.push('This run has no pruned members yet.');
  return lines.length === 0 ? '' : `## Notes\n\n${lines.map((l) => `- ${l}`).join('\n')}`;
}

function denseBaseline(results: RunResults): string {
  return [
    '## Dense baseline',
    '',
    table(
      [md(results.metric.name), 'time (median)', 'layer params (M)', 'heads', 'FFN neurons'],
      ['right', 'right', 'right', 'right', 'right'],
      [
        [
          formatMetric(results.dense.metric, results.metric),
          formatMs(results.dense.timeMs),
          formatMillions(results.model.layerParameters),
          String(results.model.numLayers * results.model.numHeads),
          String(results.model.numLayers * results.model.intermediateSize),
        ],
      ],
    ),
  ].join('\n');
}

function accuracySection(results: RunResults): string {
  return [
    `## ${md(capitalize(results.metric.name))} vs speedup`,
    '',
    `![${md(results.metric.name)} vs speedup, one line per method](${ACCURACY_SVG})`,
  ].join('\n');
}

function perMethod(results: RunResults, series: readonly SeriesView[]): string {
  if (series.length === 0) return '';
  const metric = results.metric;
  const headers = [
    'target',
    'predicted',
    'measured',
    'deviation',
    'status',
    md(metric.name),
    'Δ vs dense',
    'layer params (M)',
    'heads kept',
    'FFN kept',
  ];
  const align: Align[] = ['right', 'right', 'right', 'right', 'left', 'right', 'right', 'right', 'right', 'right'];
  const sections = series.map((s) => {
    const rows = s.members.map((v) => [
      formatSpeedup(v.member.target),
      formatSpeedup(v.member.predictedSpeedup),
      formatSpeedup(v.member.measuredSpeedup),
      formatDeviation(v.deviation),
      v.member.status === 'fail' ? '**fail**' : (v.member.status ?? MISSING),
      formatMetric(v.member.metric, metric),
      formatMetricDelta(v.metricDelta, metric),
      formatMillions(v.member.layerParameters),
      `${v.headsKept} / ${v.headsTotal}`,
      formatShare(v.ffnKept / v.ffnTotal),
    ]);
    return `### ${md(s.label)}\n\n${table(headers, align, rows)}`;
  });
  return `## Results per method\n\n${sections.join('\n\n')}`;
}

function targetVsAchieved(series: readonly SeriesView[]): string {
  const out = ['## Target vs achieved speedup', ''];
  const timed = series.filter((s) => s.members.some((v) => v.speedupMeasured));
  if (timed.length === 0) {
    out.push('No member was re-timed (verification skipped), so only predicted speedups are known.');
    return out.join('\n');
  }
  out.push(
    "Like the paper's Table 5: the speedup measured by re-timing each exported member, and its deviation " +
      'from the target (measured / target − 1). **measured/predicted** is measured / predicted − 1, how far the ' +
      "latency table's prediction is off for the member; ± is the relative standard error of the measured speedup.",
    '',
  );
  // One row per target, a measured/deviation column pair per method and variant.
  const targets = [...new Set(timed.flatMap((s) => s.members.filter((v) => v.speedupMeasured).map((v) => v.member.target)))].sort(
    (a, b) => a - b,
  );
  const cell = (s: SeriesView, target: number, f: (v: MemberView) => string): string => {
    const hits = s.members.filter((v) => v.member.target === target);
    return hits.length === 0 ? MISSING : hits.map(f).join(', ');
  };
  const headers = ['target', ...timed.flatMap((s) => [`${md(s.label)} measured`, 'deviation', 'measured/predicted'])];
  const align: Align[] = headers.map(() => 'right');
  const measuredCell = (v: MemberView): string => {
    const u = v.member.verification?.uncertainty;
    const speedup = formatSpeedup(v.member.measuredSpeedup);
    return v.speedupMeasured && typeof u === 'number' && Number.isFinite(u)
      ? `${speedup} ±${formatDeviation(u).replace(/^\+/, '')}`
      : speedup;
  };
  const rows = targets.map((t) => [
    formatSpeedup(t),
    ...timed.flatMap((s) => [
      cell(s, t, measuredCell),
      cell(s, t, (v) => formatDeviation(v.deviation)),
      cell(s, t, (v) => formatDeviation(v.predictionError)),
    ]),
  ]);
  out.push(table(headers, align, rows), '');
  const drift = denseDrift(series);
  if (drift !== '') out.push(drift, '');

  const withDeviation = series.flatMap((s) => s.members.filter((v) => v.deviation !== undefined).map((v) => ({ s, v })));
  if (withDeviation.length > 0) {
    let worst = withDeviation[0]!;
    for (const d of withDeviation) if (Math.abs(d.v.deviation!) > Math.abs(worst.v.deviation!)) worst = d;
    out.push(
      `Largest |deviation|: **${formatDeviation(Math.abs(worst.v.deviation!)).replace(/^\+/, '')}** ` +
        `(${md(worst.s.label)}, target ${formatSpeedup(worst.v.member.target)}).`,
    );
  }
  const all = series.flatMap((s) => s.members);
  const pass = all.filter((v) => v.member.status === 'pass').length;
  const failed = series.flatMap((s) => s.members.filter((v) => v.member.status === 'fail').map((v) => ({ s, v })));
  const unknown = all.length - pass - failed.length;
  if (withDeviation.length > 0) out.push('');
  let status = `Status: ${pass} pass, ${failed.length} fail`;
  if (unknown > 0) status += `, ${unknown} not verified`;
  status += '.';
  if (failed.length > 0) {
    status += ` Failed: ${failed.map(({ s, v }) => `${md(s.label)} at ${formatSpeedup(v.member.target)}`).join('; ')}.`;
  }
  out.push(status);
  return out.join('\n');
}

/**
 * How the dense model's time during verification compares with the latency table's: a device that
 * drifted since the table was measured (thermal state, other load, an update) makes predictions
 * less trustworthy, and explains a measured/predicted gap shared by every member.
 */
function denseDrift(series: readonly SeriesView[]): string {
  const verified = series.flatMap((s) => s.members).filter((v) => v.speedupMeasured && v.member.verification);
  const drifts = verified.filter(
    (v) => typeof v.member.verification!.denseDrift === 'number' && Number.isFinite(v.member.verification!.denseDrift),
  );
  if (drifts.length === 0) return '';
  // Members verified together share one dense measurement: one line per distinct session.
  const sessions = new Map<string, { drift: number; denseMs: number }>();
  for (const v of drifts) {
    const { denseDrift: d, denseMs } = v.member.verification!;
    sessions.set(`${d}:${denseMs}`, { drift: d!, denseMs });
  }
  const list = [...sessions.values()];
  if (list.length === 1) {
    const { drift, denseMs } = list[0]!;
    return (
      `Dense drift: during verification the dense model took ${formatMs(denseMs)}, ${formatDeviation(drift)} vs the latency table ` +
      `(${formatMs(denseMs / (1 + drift))}).`
    );
  }
  const values = list.map((x) => x.drift).sort((a, b) => a - b);
  return `Dense drift (dense model during verification vs the latency table) over ${list.length} verification sessions: from ${formatDeviation(values[0]!)} to ${formatDeviation(values[values.length - 1]!)}.`;
}

/** Paired comparisons (McNemar's exact test) on the same evaluation examples, when the run has them. */
function significance(results: RunResults): string {
  const comparisons = results.comparisons ?? [];
  if (comparisons.length === 0) return '';
  const name = (m: string) => (m === 'dense' ? 'dense model' : (METHOD_STYLE[m as keyof typeof METHOD_STYLE]?.name ?? m));
  const rows = [...comparisons]
    .sort(
      (a, b) =>
        a.target - b.target ||
        METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) ||
        (a.baseline === 'dense' ? -1 : b.baseline === 'dense' ? 1 : 0),
    )
    .map((c) => [
      formatSpeedup(c.target),
      md(`${name(c.method)}${c.variant ? ` (${c.variant})` : ''}`),
      md(name(c.baseline)),
      String(c.wins),
      String(c.losses),
      c.pValue < 0.001 ? '< 0.001' : c.pValue.toFixed(3),
      c.pValue < 0.05 ? (c.wins > c.losses ? '**better**' : '**worse**') : 'no significant difference',
    ]);
  return [
    '## Paired comparisons',
    '',
    'Each member against the dense model and against the other methods at the same target, on the same evaluation examples: ' +
      '*wins* are examples only the member gets right, *losses* examples only the other model gets right. The p-value is ' +
      "McNemar's exact two-sided test; differences with p ≥ 0.05 are within what the evaluation set's size can tell apart.",
    '',
    table(
      ['target', 'member', 'vs', 'wins', 'losses', 'p', 'verdict (p < 0.05)'],
      ['right', 'left', 'left', 'right', 'right', 'right', 'left'],
      rows,
    ),
  ].join('\n');
}

function structureSection(results: RunResults, series: readonly SeriesView[]): string {
  const out = ['## Where the pruning went', ''];
  const ziplm = series.filter((s) => s.method === 'ziplm');
  const views = ziplm.flatMap((s) => s.members.map((v) => ({ s, v })));
  const paper =
    'The paper (Appendix E) finds the FFN pruned much harder than attention: a 2× BERT-base keeps about 40% ' +
    'of its FFN neurons but 60% of its heads; 15× models keep about 2% of the FFN and 6% of the heads.';
  if (views.length === 0) {
    out.push(`${paper} This run has no ZipLM members, so the observation is not checked here.`);
  } else {
    // "Pruned harder" = a smaller share kept; a tie does not count.
    const harder = views.filter(({ v }) => v.ffnKept / v.ffnTotal < v.headsKept / v.headsTotal);
    const harderSet = new Set(harder.map(({ v }) => v));
    const not = views.filter(({ v }) => !harderSet.has(v));
    let verdict: string;
    if (not.length === 0) {
      verdict =
        views.length === 1
          ? '**Holds in this run:** the ZipLM member keeps a smaller share of its FFN neurons than of its heads.'
          : `**Holds in this run:** all ${views.length} ZipLM members keep a smaller share of their FFN neurons than of their heads.`;
    } else if (harder.length === 0) {
      verdict = '**Does not hold in this run:** no ZipLM member keeps a smaller share of its FFN neurons than of its heads.';
    } else {
      verdict =
        `**Holds for ${harder.length} of ${views.length} ZipLM members**; not at ` +
        `${not.map(({ s, v }) => `${formatSpeedup(v.member.target)}${s.variant === undefined ? '' : ` (${md(s.variant)})`}`).join(', ')}.`;
    }
    out.push(`${paper} ${verdict}`, '');
    const showSetting = ziplm.length > 1;
    const headers = [
      ...(showSetting ? ['setting'] : []),
      'target',
      'speedup',
      'heads kept',
      'FFN neurons kept',
      'layers without attention',
      'layers without FFN',
      'FFN pruned harder',
    ];
    const align: Align[] = [...(showSetting ? (['left'] as Align[]) : []), 'right', 'right', 'right', 'right', 'right', 'right', 'left'];
    const rows = views.map(({ s, v }) => [
      ...(showSetting ? [md(s.label)] : []),
      formatSpeedup(v.member.target),
      `${formatSpeedup(v.speedup)}${v.speedupMeasured ? '' : ' (predicted)'}`,
      `${formatShare(v.headsKept / v.headsTotal)} (${v.headsKept} / ${v.headsTotal})`,
      `${formatShare(v.ffnKept / v.ffnTotal)} (${v.ffnKept} / ${v.ffnTotal})`,
      `${v.attentionRemoved} / ${results.model.numLayers}`,
      `${v.ffnRemoved} / ${results.model.numLayers}`,
      harderSet.has(v) ? 'yes' : 'no',
    ]);
    out.push(table(headers, align, rows));
  }
  const shown = structureSeries(series);
  if (shown !== undefined) {
    const what =
      shown.method === 'ziplm' ? `each ${md(shown.label)} target` : `each ${md(shown.label)} target (no ZipLM members in this run)`;
    out.push('', `Kept heads and FFN neurons per layer for ${what}, like the paper's Figures 6 and 8:`, '');
    out.push(`![Kept attention heads and FFN neurons per layer](${STRUCTURE_SVG})`);
  }
  return out.join('\n');
}
