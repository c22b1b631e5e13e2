// report.md of a run directory: what was pruned, how fast each member is (target, predicted by the
// latency table, measured by re-timing), what it costs in task metric, and where the pruning went.
// Pure: RunResults in, text out; writeReport (write.ts) is the only IO.

import type { LatencyTable } from '@ziplm/latency';
import { DEFAULT_TOLERANCE, MAX_RETARGET_CORRECTION } from '../defaults.js';
import type { RunResults } from '../results.js';
import {
  MISSING,
  escapeMarkdown as md,
  formatAbsDeviation,
  formatBytes,
  formatDeviation,
  formatMetric,
  formatMetricDelta,
  formatMetricWithInterval,
  formatMillions,
  formatMs,
  formatShare,
  formatSpeedup,
  isPercentMetric,
} from './format.js';
import {
  DEGENERATE_MARK,
  type MemberView,
  type SeriesView,
  METHOD_ORDER,
  METHOD_STYLE,
  checkRunResults,
  groupSeries,
  hasMetricInterval,
  metricInterval,
  modelFamily,
} from './model.js';
import {
  ACCURACY_SVG,
  DEGENERATE_TEXT,
  LATENCY_SVG,
  STRUCTURE_SVG,
  nonMonotoneLevels,
  renderAccuracyPlot,
  renderLatencyPlot,
  renderStructurePlot,
  structureSeries,
} from './plots.js';

/** File name of the report inside the run directory. */
export const REPORT_MD = 'report.md';

/** A rendered report: the Markdown and the SVG plots it links, by file name (relative to report.md). */
export interface RenderedReport {
  readonly markdown: string;
  /** `accuracy-vs-speedup.svg`, `structure.svg` and, when the latency table was given, `latency-table.svg`. */
  readonly svgs: Readonly<Record<string, string>>;
}

/** What the report shows besides results.json: the run directory's latency table. */
export interface ReportInputs {
  /** The table the run searched with (its latency-table.json): the CPU it was measured on, and its plot. */
  readonly latencyTable?: LatencyTable;
  /** Why the run directory's latency table could not be read (shown as a note). */
  readonly latencyTableProblem?: string;
}

/**
 * Renders report.md and its plots from a run's results (and, when given, its latency table). Pure and
 * deterministic: the same inputs give byte-identical output (no clock, no randomness, no locale).
 * @throws {ReportError} when the results are inconsistent (e.g. a member's `layerHeads` does not
 *   have one entry per layer, a speedup is not a positive number).
 */
export function renderReport(results: RunResults, inputs: ReportInputs = {}): RenderedReport {
  checkRunResults(results);
  const series = groupSeries(results);
  const table = inputs.latencyTable;
  // Results first; what explains them (notes, how to read) after them.
  const markdown = [
    header(results, series, table),
    denseBaseline(results),
    accuracySection(results),
    perMethod(results, series),
    compoundSection(results),
    targetVsAchieved(series),
    significance(results),
    structureSection(results, series),
    latencySection(table),
    notes(results, series, inputs),
    howToRead(results),
  ]
    .filter((section) => section !== '')
    .join('\n\n');
  return {
    markdown: `${markdown}\n`,
    svgs: {
      [ACCURACY_SVG]: renderAccuracyPlot(results, series),
      [STRUCTURE_SVG]: renderStructurePlot(results, series),
      ...(table === undefined ? {} : { [LATENCY_SVG]: renderLatencyPlot(results, table) }),
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
    `${modelFamily(results)}, ${m.numLayers} layers, hidden size ${m.hiddenSize}, ` +
    `${m.numHeads} heads and FFN ${m.intermediateSize} per layer, ${formatMillions(m.layerParameters)} M layer parameters`
  );
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

// ---------------------------------------------------------------------------------------------------
// Sections

/**
 * The environment line: the engine settings from results.json, then the CPU and core count the
 * latency table was measured on (its device fingerprint), since every time in the report is that
 * device's.
 */
function environmentText(results: RunResults, table: LatencyTable | undefined): string {
  if (table === undefined) return md(results.environment);
  const { cpuModel, logicalCores } = table.fingerprint;
  return `${md(results.environment)}; CPU ${md(cpuModel)}, ${plural(logicalCores, 'logical core')} (the latency table's device)`;
}

function header(results: RunResults, series: readonly SeriesView[], table: LatencyTable | undefined): string {
  const counts = series.map((s) => `${md(s.label)} ${s.members.length}`).join(', ');
  const rows = [
    ['task', results.labels ? `${md(results.task)} (labels: ${results.labels.map(md).join(', ')})` : md(results.task)],
    ['model', modelText(results)],
    ['mode', modeText(results.mode)],
    ['environment', environmentText(results, table)],
    ['metric', `${md(results.metric.label)} (${results.metric.higherIsBetter ? 'higher' : 'lower'} is better)`],
    ['members', results.members.length === 0 ? '0' : `${results.members.length}: ${counts}`],
  ];
  return `# ZipLM run report: ${md(results.task)}\n\n${rows.map(([k, v]) => `- **${k}:** ${v}`).join('\n')}`;
}

function howToRead(results: RunResults): string {
  const metric = results.metric;
  const direction = metric.higherIsBetter ? 'higher is better' : 'lower is better';
  const points = isPercentMetric(metric) ? ' (in points)' : '';
  const tolerance = formatShare(DEFAULT_TOLERANCE).replace('.0%', '%');
  const interval = hasMetricInterval(metric)
    ? ` The range after it is its 95% interval (Wilson, over the ${metric.items} evaluation items): differences inside it are noise.`
    : '';
  return [
    '## How to read this',
    '',
    'Each member is the dense model pruned to a **target** speedup. The **predicted** speedup is what the ' +
      "latency table of this environment promises for the member's kept heads and FFN neurons; after a " +
      'member was searched again (see the notes) it is the prediction for the corrected search target, which ' +
      'can be below the target. The **measured** speedup comes from re-timing the exported member against the ' +
      "dense model, and **deviation** is measured / target − 1 (the paper's Table 5 counts |deviation|, " +
      'so a member faster than asked is as far off as a slower one). **status** is the speed verdict from the ' +
      'paired timing rounds: `FAIL` only when the 95% interval of the measured speedup lies wholly below ' +
      'target × (1 − tolerance), `inconclusive` when it straddles that bound (the notes say why), `pass` ' +
      `otherwise; "overshoot" marks a member measured more than ${tolerance} above its target. ` +
      `**${md(metric.name)}** is the task metric (${direction}).${interval} **Δ vs dense** is the ` +
      `member's metric minus the dense model's${points}. ${DEGENERATE_MARK} marks a degenerate member: ` +
      'accuracy at chance level (not above the accuracy of always predicting the majority class), or attention ' +
      'or FFN removed in every layer; it is a valid model of that speed, but not a useful one. **time** is the ' +
      "member's median time when it was re-timed; **layer params** counts the parameters of the transformer " +
      "layers only (embeddings and heads excluded, as in the paper's Table 6), **total params** the whole " +
      'model, **model.onnx** the size of the shipped graph; **heads kept** is the total over all layers, ' +
      '**FFN kept** the share of FFN neurons left. Speedups are always relative to the dense model. Baselines ' +
      'use the same latency table and search: *magnitude* keeps the heads and neurons with the largest weight ' +
      `norm without updating weights; *uniform* keeps the same shape in every layer. ${MISSING} marks a value ` +
      'that was not computed.',
  ].join('\n');
}

function notes(results: RunResults, series: readonly SeriesView[], inputs: ReportInputs): string {
  const views = series.flatMap((s) => s.members.map((v) => ({ s, v })));
  const lines = results.notes.map((n) => md(n));
  if (inputs.latencyTableProblem !== undefined) {
    lines.push(
      `The run's latency table could not be read (${md(inputs.latencyTableProblem)}): no CPU in the environment line, no latency-table plot.`,
    );
  }
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
          formatMetricWithInterval(results.dense.metric, metricInterval(results.metric, results.dense.metric), results.metric),
          formatMs(results.dense.timeMs),
          formatMillions(results.model.layerParameters),
          String(results.model.numLayers * results.model.numHeads),
          String(results.model.numLayers * results.model.intermediateSize),
        ],
      ],
    ),
  ].join('\n');
}

/**
 * Compound members (guide/compound-compression.md): the speedup split into its structured part and
 * INT8's own, the metric at every step, and how small the shipped weights are. The split is the
 * table's: INT8's factor is the dense FP32 time over the dense INT8 time, both timed in the same
 * table; the structured part is the member's total (measured when verified) over that factor.
 */
function compoundSection(results: RunResults): string {
  const members = results.members.filter((m) => m.compound);
  if (members.length === 0) return '';
  const int8Factor = results.dense.int8TimeMs !== undefined ? results.dense.timeMs / results.dense.int8TimeMs : undefined;
  const steps = (['fp32', 'sparse', 'rtn', 'gptq', 'qat'] as const).filter((k) =>
    members.some((m) => m.compound!.metrics[k] !== undefined),
  );
  const stepName = { fp32: 'FP32', sparse: 'FP32 + sparsity', rtn: 'INT8 RTN', gptq: 'INT8 GPTQ', qat: 'INT8 + QAT' } as const;
  const rows = members.map((m) => {
    const c = m.compound!;
    const total = m.measuredSpeedup ?? m.predictedSpeedup;
    return [
      formatSpeedup(m.target),
      int8Factor !== undefined ? formatSpeedup(total / int8Factor) : '—',
      formatSpeedup(int8Factor),
      `${formatSpeedup(total)}${m.measuredSpeedup === undefined ? ' (predicted)' : ''}`,
      ...steps.map((k) => formatMetric(c.metrics[k], results.metric)),
      c.shipped,
      `${(100 * c.sparsity).toFixed(1)}%`,
      formatBytes(c.weightBytes.fp32),
      formatBytes(c.weightBytes.int8),
      formatBytes(c.weightBytes.sparseInt8),
      formatBytes(c.onnxGzipBytes),
    ];
  });
  const precision = members[0]!.compound!.precision;
  return [
    `## Compound compression (${precision})`,
    '',
    `Speedups are over the dense FP32 model. INT8's own factor is the dense FP32 over the dense INT8 model in the latency table; the structured part is the total over it. ` +
      `Weights: the quantized linear layers only (embeddings and heads stay FP32), dense FP32, dense INT8, and INT8 in a sparse format (a bitmask plus the nonzero values).`,
    '',
    table(
      [
        'target',
        'structured',
        'INT8',
        'total',
        ...steps.map((k) => `${md(results.metric.name)} ${stepName[k]}`),
        'shipped',
        'sparsity',
        'weights FP32',
        'INT8',
        'sparse INT8',
        'model.onnx gzip',
      ],
      ['right', 'right', 'right', 'right', ...steps.map((): Align => 'right'), 'left', 'right', 'right', 'right', 'right', 'right'],
      rows,
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

/** The status cell: the verdict, and "overshoot" for a member measured well above its target. */
function statusCell(v: MemberView): string {
  const status = v.member.status;
  const verdict = status === 'fail' ? '**FAIL**' : (status ?? MISSING);
  return v.overshoot && status !== undefined ? `${verdict}, overshoot` : verdict;
}

/** The metric cell: value, 95% interval when known, and the degenerate mark. */
function metricCell(v: MemberView, results: RunResults): string {
  const cell = formatMetricWithInterval(v.member.metric, v.metricInterval, results.metric);
  return v.degenerate.length > 0 ? `${cell} ${DEGENERATE_MARK}` : cell;
}

/**
 * One section per method and variant with two tables of seven columns each (one wide table would
 * hide its right half behind horizontal scrolling on a documentation page): speed and metric, then
 * time and size.
 */
function perMethod(results: RunResults, series: readonly SeriesView[]): string {
  if (series.length === 0) return '';
  const metric = results.metric;
  const speedHeaders = ['target', 'predicted', 'measured', 'deviation', 'status', md(metric.name), 'Δ vs dense'];
  const speedAlign: Align[] = ['right', 'right', 'right', 'right', 'left', 'right', 'right'];
  const sizeHeaders = ['target', 'time (median)', 'heads kept', 'FFN kept', 'layer params (M)', 'total params (M)', 'model.onnx'];
  const sizeAlign: Align[] = ['right', 'right', 'right', 'right', 'right', 'right', 'right'];
  const sections = series.map((s) => {
    const speed = s.members.map((v) => [
      formatSpeedup(v.member.target),
      formatSpeedup(v.member.predictedSpeedup),
      formatSpeedup(v.member.measuredSpeedup),
      formatDeviation(v.deviation),
      statusCell(v),
      metricCell(v, results),
      formatMetricDelta(v.metricDelta, metric),
    ]);
    const size = s.members.map((v) => [
      formatSpeedup(v.member.target),
      formatMs(v.speedupMeasured ? v.member.verification?.memberMs : undefined),
      `${v.headsKept} / ${v.headsTotal}`,
      formatShare(v.ffnKept / v.ffnTotal),
      formatMillions(v.member.layerParameters),
      formatMillions(v.member.totalParameters),
      formatBytes(v.member.onnxBytes),
    ]);
    return `### ${md(s.label)}\n\n${table(speedHeaders, speedAlign, speed)}\n\n${table(sizeHeaders, sizeAlign, size)}`;
  });
  const after: string[] = [];
  const degenerate = series.flatMap((s) => s.members.filter((v) => v.degenerate.length > 0).map((v) => ({ s, v })));
  if (degenerate.length > 0) {
    const chance = metric.chance;
    const chanceText =
      typeof chance === 'number' && Number.isFinite(chance)
        ? `; chance level: ${md(metric.name)} not above ${formatMetric(chance, metric)} (always predicting the majority class)`
        : '';
    after.push(
      `${DEGENERATE_MARK} degenerate (valid, but not a useful model${chanceText}): ` +
        `${degenerate.map(({ s, v }) => `${md(s.label)} ${formatSpeedup(v.member.target)} (${v.degenerate.map((r) => DEGENERATE_TEXT[r]).join(', ')})`).join('; ')}.`,
    );
  }
  if (!hasMetricInterval(metric)) {
    after.push(
      hasIntervalKind(metric)
        ? `No 95% interval on ${md(metric.name)}: these results do not record how many items it was measured on.`
        : `No 95% interval on ${md(metric.name)}: it is not a share of independent items, and the run keeps no per-item scores to resample.`,
    );
  }
  return `## Results per method\n\n${sections.join('\n\n')}${after.length === 0 ? '' : `\n\n${after.join('\n\n')}`}`;
}

/** Whether the metric is a share of items (an interval needs only the item count). */
function hasIntervalKind(metric: RunResults['metric']): boolean {
  return (metric.name === 'accuracy' || metric.name === 'agreement') && isPercentMetric(metric);
}

/** Methods side by side in one Table 5 table (three columns each). */
const SERIES_PER_TABLE = 2;

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
      "latency table's prediction is off for the member. After a measured speedup comes its 95% interval from the " +
      'paired timing rounds, or (in runs that did not record one) ± its relative standard error.',
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
  const measuredCell = (v: MemberView): string => {
    const u = v.member.verification?.uncertainty;
    const interval = v.member.verification?.interval;
    const speedup = formatSpeedup(v.member.measuredSpeedup);
    if (!v.speedupMeasured) return speedup;
    if (interval !== undefined) return `${speedup} (${formatSpeedup(interval[0]).replace('×', '')}–${formatSpeedup(interval[1])})`;
    return typeof u === 'number' && Number.isFinite(u) ? `${speedup} ±${formatDeviation(u).replace(/^\+/, '')}` : speedup;
  };
  // At most two methods per table (seven columns), so that no column hides behind horizontal
  // scrolling on a documentation page; every table has a row for every target.
  for (let first = 0; first < timed.length; first += SERIES_PER_TABLE) {
    const chunk = timed.slice(first, first + SERIES_PER_TABLE);
    const headers = ['target', ...chunk.flatMap((s) => [`${md(s.label)} measured`, 'deviation', 'measured/predicted'])];
    const align: Align[] = headers.map(() => 'right');
    const rows = targets.map((t) => [
      formatSpeedup(t),
      ...chunk.flatMap((s) => [
        cell(s, t, measuredCell),
        cell(s, t, (v) => formatDeviation(v.deviation)),
        cell(s, t, (v) => formatDeviation(v.predictionError)),
      ]),
    ]);
    out.push(table(headers, align, rows), '');
  }
  const drift = denseDrift(series);
  if (drift !== '') out.push(drift, '');
  out.push(absoluteDeviationTable(timed, targets), '');

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
  const withStatus = (status: string) => series.flatMap((s) => s.members.filter((v) => v.member.status === status).map((v) => ({ s, v })));
  const pass = all.filter((v) => v.member.status === 'pass').length;
  const failed = withStatus('fail');
  const inconclusive = withStatus('inconclusive');
  const unknown = all.length - pass - failed.length - inconclusive.length;
  if (withDeviation.length > 0) out.push('');
  let status = `Status: ${pass} pass, ${failed.length} fail`;
  if (inconclusive.length > 0) status += `, ${inconclusive.length} inconclusive`;
  if (unknown > 0) status += `, ${unknown} not verified`;
  status += '.';
  if (failed.length > 0) {
    status += ` Failed: ${failed.map(({ s, v }) => `${md(s.label)} at ${formatSpeedup(v.member.target)}`).join('; ')}.`;
  }
  out.push(status);
  if (inconclusive.length > 0) {
    const why = inconclusive.map(
      ({ s, v }) =>
        `- ${md(s.label)} at ${formatSpeedup(v.member.target)}: ${v.member.statusReason === undefined ? 'no reason recorded' : md(v.member.statusReason)}`,
    );
    out.push('', 'Inconclusive (the timing could not tell; re-time on a quieter machine with `ziplm verify --rounds N`):', '', ...why);
  }
  const overshoot = series.flatMap((s) => s.members.filter((v) => v.overshoot).map((v) => ({ s, v })));
  if (overshoot.length > 0) {
    out.push(
      '',
      `Overshoot (measured more than ${formatShare(DEFAULT_TOLERANCE).replace('.0%', '%')} above the target: the member passes, but it was pruned ` +
        `further than the target needed): ${overshoot.map(({ s, v }) => `${md(s.label)} at ${formatSpeedup(v.member.target)} (${formatDeviation(v.deviation)})`).join('; ')}.`,
    );
  }
  return out.join('\n');
}

/**
 * |deviation| per target and method with its direction, and the mean per method: the paper's Table 5
 * reports |measured / target − 1|, so a member faster than asked counts as much as a slower one.
 */
function absoluteDeviationTable(timed: readonly SeriesView[], targets: readonly number[]): string {
  const cell = (s: SeriesView, target: number): string => {
    const hits = s.members.filter((v) => v.member.target === target && v.deviation !== undefined);
    return hits.length === 0 ? MISSING : hits.map((v) => formatAbsDeviation(v.deviation)).join(', ');
  };
  const mean = (s: SeriesView): string => {
    const deviations = s.members.filter((v) => v.deviation !== undefined).map((v) => Math.abs(v.deviation!));
    if (deviations.length === 0) return MISSING;
    return formatDeviation(deviations.reduce((a, b) => a + b, 0) / deviations.length).replace(/^\+/, '');
  };
  const rows = [
    ...targets.map((t) => [formatSpeedup(t), ...timed.map((s) => cell(s, t))]),
    ['mean', ...timed.map((s) => `**${mean(s)}**`)],
  ];
  return [
    "Per target, |deviation| = |measured / target − 1| as in the paper's Table 5, with its direction (over: faster than the target):",
    '',
    table(['target', ...timed.map((s) => md(s.label))], ['right', ...timed.map((): Align => 'right')], rows),
  ].join('\n');
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
    const headers = [
      'target',
      'speedup',
      'heads kept',
      'FFN neurons kept',
      'layers without attention',
      'layers without FFN',
      'FFN pruned harder',
    ];
    const align: Align[] = ['right', 'right', 'right', 'right', 'right', 'right', 'left'];
    // One table per ZipLM setting (a column naming the setting would make it too wide for a page).
    const tablesOut = ziplm.map((setting) => {
      const rows = views
        .filter(({ s }) => s === setting)
        .map(({ v }) => [
          formatSpeedup(v.member.target),
          `${formatSpeedup(v.speedup)}${v.speedupMeasured ? '' : ' (predicted)'}`,
          `${formatShare(v.headsKept / v.headsTotal)} (${v.headsKept} / ${v.headsTotal})`,
          `${formatShare(v.ffnKept / v.ffnTotal)} (${v.ffnKept} / ${v.ffnTotal})`,
          `${v.attentionRemoved} / ${results.model.numLayers}`,
          `${v.ffnRemoved} / ${results.model.numLayers}`,
          harderSet.has(v) ? 'yes' : 'no',
        ]);
      const body = table(headers, align, rows);
      return ziplm.length > 1 ? `**${md(setting.label)}**\n\n${body}` : body;
    });
    out.push(tablesOut.join('\n\n'));
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

/** The latency table's plot and its non-monotone levels, when the run directory has the table. */
function latencySection(table: LatencyTable | undefined): string {
  if (table === undefined) return '';
  const out = [
    '## Latency table',
    '',
    "The table every member was searched with: the time one attention or FFN module adds to a layer at each kept size, in the table's " +
      'environment. Keeping more heads or neurons should never be faster; a level that is (ringed) is noise or a kernel switch, and the ' +
      'search, which trusts the table, tends to pick it.',
    '',
    `![Latency table: time per layer vs kept heads and vs kept FFN neurons](${LATENCY_SVG})`,
    '',
  ];
  const flagged = [...nonMonotoneLevels('attention', table.attention), ...nonMonotoneLevels('ffn', table.ffn)];
  if (flagged.length === 0) {
    out.push('Every level is at least as slow as each smaller level of its module (the table is monotone).');
  } else {
    const list = flagged.map(
      (l) =>
        `- ${l.module === 'attention' ? `attention, ${l.kept} heads` : `FFN, ${l.kept} neurons`}: ${formatMs(l.time)}, faster than ` +
        `${l.smaller.kept} ${l.module === 'attention' ? 'heads' : 'neurons'} (${formatMs(l.smaller.time)})`,
    );
    out.push(`**${plural(flagged.length, 'non-monotone level')}:**`, '', ...list);
  }
  return out.join('\n');
}
