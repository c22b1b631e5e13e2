// Options several commands share: the inference environment, and formatting of result tables.

import { basename, join, resolve } from 'node:path';
import type { InferenceEnvironment, InferenceEnvironmentOptions } from '@ziplm/latency';
import type { CompoundOptions, RunResults } from '@ziplm/pipeline';
import type { CommandIO, OptionsFor, OptionsSpec, ParsedOptions } from '../command.js';
import { UsageError } from '../command.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export const ENVIRONMENT_OPTIONS = {
  mode: {
    type: 'string',
    description: 'Inference mode: latency (batch 1), throughput (large batches) or generation (GPT2, one token with a KV cache)',
    choices: ['latency', 'throughput', 'generation'],
    default: 'latency',
  },
  batchSize: { type: 'number', description: 'Sequences per forward pass (default: 1, or 32 in throughput mode)', valueName: 'N' },
  seqLength: {
    type: 'number',
    description:
      'Tokens per sequence (full-sequence modes; default: the length the model was trained at when its config records it, else 128)',
    valueName: 'N',
  },
  pastLength: { type: 'number', description: 'KV-cache length in generation mode', default: 50, valueName: 'N' },
  threads: { type: 'number', description: 'onnxruntime intra-op threads', default: 2, valueName: 'N' },
} as const satisfies OptionsFor<InferenceEnvironmentOptions>;

/**
 * Compound compression flags of `prune` and `gradual` (guide/compound-compression.md): INT8 members,
 * optionally with SparseGPT sparsity. Targets then count from the dense FP32 model.
 */
export const COMPOUND_OPTIONS = {
  quantize: {
    type: 'string',
    description: 'Ship every member with INT8 weights and activations (onnxruntime INT8 kernels); speedups count from the dense FP32 model',
    choices: ['int8'],
    valueName: 'FORMAT',
  },
  quantMethod: {
    type: 'string',
    description: 'How --quantize rounds the weights: GPTQ (OBS, the default) or round-to-nearest',
    choices: ['gptq', 'rtn'],
  },
  activations: {
    type: 'string',
    description:
      'How --quantize quantizes activations: per batch at run time (the default), or from ranges calibrated on the calibration set',
    choices: ['dynamic', 'static'],
  },
  sparsity: {
    type: 'number',
    description: "With --quantize: fraction of every linear layer's weights set to 0 by SparseGPT before quantizing (e.g. 0.8)",
    valueName: 'FRACTION',
  },
} as const satisfies OptionsSpec;

/** The compound flags as parsed. */
export type CompoundFlags = ParsedOptions<typeof COMPOUND_OPTIONS> & { readonly qatEpochs?: number | undefined };

/** The pipeline's `compound` option from the flags (undefined without --quantize; the other flags then are usage errors). */
export function compoundOptions(o: CompoundFlags): CompoundOptions | undefined {
  if (o.quantize === undefined) {
    if (o.sparsity !== undefined)
      throw new UsageError('--sparsity needs --quantize int8 (sparse FP32 weights run no faster in onnxruntime)');
    if (o.qatEpochs !== undefined && o.qatEpochs > 0) throw new UsageError('--qat-epochs needs --quantize int8');
    if (o.quantMethod !== undefined) throw new UsageError('--quant-method needs --quantize int8');
    if (o.activations !== undefined) throw new UsageError('--activations needs --quantize int8');
    return undefined;
  }
  if (o.sparsity !== undefined && !(o.sparsity >= 0 && o.sparsity < 1))
    throw new UsageError(`--sparsity must be a fraction in [0, 1), got ${o.sparsity}`);
  if (o.qatEpochs !== undefined && !(Number.isInteger(o.qatEpochs) && o.qatEpochs >= 0))
    throw new UsageError(`--qat-epochs must be an integer >= 0, got ${o.qatEpochs}`);
  return {
    quantize: 'int8',
    ...(o.quantMethod !== undefined ? { method: o.quantMethod } : {}),
    ...(o.activations !== undefined ? { activations: o.activations } : {}),
    ...(o.sparsity !== undefined ? { sparsity: o.sparsity } : {}),
    ...(o.qatEpochs !== undefined ? { qatEpochs: o.qatEpochs } : {}),
  };
}

/**
 * The input-limit flag of the commands that read datasets and model files. The limits themselves
 * (defaults, `$ZIPLM_MAX_INPUT_BYTES`, `$ZIPLM_MAX_LINE_BYTES`) are decided in @ziplm/models
 * (`inputLimits`); the flag takes precedence over the environment.
 */
export const INPUT_OPTIONS = {
  maxInputMb: {
    type: 'number',
    description:
      'Largest data, vocabulary or config file read, in MiB (default 256, or $ZIPLM_MAX_INPUT_BYTES); lines of TSV and text files are limited by $ZIPLM_MAX_LINE_BYTES (default 1 MiB)',
    valueName: 'MB',
  },
} as const satisfies OptionsSpec;

/**
 * Sets this process's input limit from `--max-input-mb`, or clears one set by an earlier command in the
 * same process (tests run the CLI in-process), so the environment and the default apply again.
 */
export async function applyInputLimits(o: { readonly maxInputMb?: number | undefined }): Promise<void> {
  const mb = o.maxInputMb;
  if (mb !== undefined && !(Number.isFinite(mb) && mb > 0 && mb * 1024 * 1024 <= Number.MAX_SAFE_INTEGER))
    throw new UsageError(`--max-input-mb must be a positive number of MiB, got ${mb}`);
  const { setInputLimits } = await import('@ziplm/models/data');
  setInputLimits(mb === undefined ? {} : { maxInputBytes: Math.max(1, Math.round(mb * 1024 * 1024)) });
}

/** The environment flags as parsed (`--mode` narrowed to the latency package's modes). */
export type EnvironmentFlags = ParsedOptions<typeof ENVIRONMENT_OPTIONS>;

/** The @ziplm/latency environment options from the flags. */
export function environmentOptions(o: EnvironmentFlags): InferenceEnvironmentOptions {
  const mode = o.mode;
  for (const [flag, v] of [
    ['--seq-length', o.seqLength],
    ['--past-length', o.pastLength],
    ['--threads', o.threads],
    ['--batch-size', o.batchSize],
  ] as const) {
    const min = flag === '--past-length' && mode !== 'generation' ? 0 : 1;
    if (v !== undefined && !(Number.isInteger(v) && v >= min)) {
      throw new UsageError(
        `${flag} must be an integer >= ${min}${flag === '--past-length' ? ' in generation mode (the KV cache holds at least one token)' : ''}, got ${v}`,
      );
    }
  }
  if (mode === 'latency' && o.batchSize !== undefined && o.batchSize !== 1)
    throw new UsageError('--batch-size must be 1 in latency mode (use --mode throughput for larger batches)');
  return {
    mode,
    threads: o.threads,
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
    ...(mode === 'generation' ? { pastLength: o.pastLength } : o.seqLength !== undefined ? { sequenceLength: o.seqLength } : {}),
  };
}

/**
 * The environment flags for a model: without --seq-length, a full-sequence environment takes the
 * length the model records it was trained at (`maxSequenceLength`, written by `ziplm train`), else
 * the default 128. Positions beyond the trained length never were trained, so no input it serves is
 * longer, and timing longer sequences would time the wrong thing.
 */
export function environmentForModel(
  o: EnvironmentFlags,
  config: { readonly maxSequenceLength?: number | undefined },
): InferenceEnvironmentOptions {
  const env = environmentOptions(o);
  if (env.mode === 'generation' || env.sequenceLength !== undefined || config.maxSequenceLength === undefined) return env;
  return { ...env, sequenceLength: config.maxSequenceLength };
}

/** Parses `--targets 2,3,4` into numbers > 1. */
export function parseTargets(values: readonly string[]): number[] {
  const targets = values.map((v) => Number(v.replace(/x$/i, '')));
  targets.forEach((t, i) => {
    if (!Number.isFinite(t) || t <= 1) throw new UsageError(`--targets: "${values[i]}" is not a speedup > 1`);
  });
  if (targets.length === 0) throw new UsageError('--targets needs at least one speedup');
  return targets;
}

/**
 * A default run directory named after the model, the environment and the compound settings that are
 * not defaults (`-int8-dynamic-sparse80-rtn-qat2`), so that runs of different settings never share one.
 */
export function defaultRunDir(cwd: string, modelDir: string, kind: string, env: InferenceEnvironment, compound?: CompoundOptions): string {
  const shape = env.mode === 'generation' ? `b${env.batchSize}-p${env.pastLength}` : `b${env.batchSize}-s${env.sequenceLength}`;
  const settings = compound
    ? `${compound.sparsity ? `-sparse${Math.round(100 * compound.sparsity)}` : ''}${compound.method === 'rtn' ? '-rtn' : ''}${compound.qatEpochs ? `-qat${compound.qatEpochs}` : ''}`
    : '';
  return resolve(cwd, 'runs', `${basename(modelDir)}-${kind}-${env.mode}-${shape}${env.precision ? `-${env.precision}` : ''}${settings}`);
}

/** A fixed-width text table. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const fmt = {
  speedup: (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(2)}x`),
  percent: (x: number | undefined) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}%`),
  metric: (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2)),
};

/**
 * The members table `prune`, `gradual` and `report` print: one row per member, its first column named
 * `first.header` and filled by `first.cell` (the method, or the gradual family), then target, predicted,
 * measured, deviation, status and the task's metric.
 */
export function membersTable(
  results: Pick<RunResults, 'members' | 'metric'>,
  first: { header: string; cell: (member: RunResults['members'][number]) => string },
): string {
  const rows = results.members.map((m) => [
    first.cell(m),
    fmt.speedup(m.target),
    fmt.speedup(m.predictedSpeedup),
    fmt.speedup(m.measuredSpeedup),
    fmt.percent(m.deviation),
    m.status ?? '—',
    fmt.metric(m.metric),
  ]);
  const header = [first.header, 'target', 'predicted', 'measured', 'deviation', 'status', results.metric.name];
  const compound = results.members.filter((m) => m.compound);
  if (compound.length === 0) return textTable(header, rows);
  // Compound members: the metric at each step (FP32 structured, +sparsity, INT8 RTN / GPTQ / QAT) and how small the shipped graph is.
  const steps = (['fp32', 'sparse', 'rtn', 'gptq', 'qat'] as const).filter((k) =>
    compound.some((m) => m.compound!.metrics[k] !== undefined),
  );
  const stepName = { fp32: 'fp32', sparse: '+sparse', rtn: 'int8 rtn', gptq: 'int8 gptq', qat: '+qat' } as const;
  const withCompound = results.members.map((m, i) => [
    ...rows[i]!,
    ...steps.map((k) => fmt.metric(m.compound?.metrics[k])),
    m.compound ? `${(100 * m.compound.sparsity).toFixed(0)}%` : '—',
    m.compound ? (m.compound.onnxGzipBytes / 1e6).toFixed(2) : '—',
  ]);
  return textTable([...header, ...steps.map((k) => stepName[k]), 'sparsity', 'gzip MB'], withCompound);
}

/** A path or word as a POSIX shell reads it back: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w./:=@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Rounds to suggest for re-timing a member: twice what its verification had (the interval of a median
 * narrows like 1/√rounds, so by about √2), and at least 40.
 */
export function retimeRounds(rounds: number | undefined): number {
  return Math.max(40, 2 * (rounds ?? 0));
}

/** What `ziplm verify` needs to re-time a member as it was judged. */
export interface RetimeTarget {
  readonly modelDir: string;
  readonly memberDir: string;
  readonly tableFile: string;
  /** The target, when it is not the member's own (`--target`). */
  readonly target?: number;
  /** The tolerance the verdict used; given as `--tolerance` when it is not the flag's default, 0.02. */
  readonly tolerance: number;
}

/** The `ziplm verify` command that re-times one member with `rounds` rounds. */
export function retimeCommand(member: RetimeTarget, rounds: number): string {
  const { modelDir, memberDir, tableFile, target, tolerance } = member;
  return (
    `ziplm verify --dense ${shellWord(modelDir)} --model ${shellWord(memberDir)} --table ${shellWord(tableFile)}` +
    (target !== undefined ? ` --target ${target}` : '') +
    (tolerance !== 0.02 ? ` --tolerance ${tolerance}` : '') +
    ` --rounds ${rounds}`
  );
}

/**
 * One line per member whose speedup verdict is not a pass, after the members table of `prune` and
 * `gradual`: that it is a timing check (the member was written and scored either way), why the verdict
 * is what it is, and the command that re-times it. Only a 'fail' (the whole 95% interval of the
 * measured speedup below target × (1 − tolerance)) makes the command exit 5; an 'inconclusive' one
 * does not, and a rerun of the run re-times it.
 */
export function verdictLines(
  results: Pick<RunResults, 'members'>,
  run: { readonly runDir: string; readonly modelDir: string; readonly tolerance: number },
  label: (member: RunResults['members'][number]) => string,
): string[] {
  const tableFile = join(run.runDir, 'latency-table.json');
  return results.members.flatMap((m) => {
    if (m.status !== 'fail' && m.status !== 'inconclusive') return [];
    const interval = m.verification?.interval;
    const measured =
      `measured ${fmt.speedup(m.measuredSpeedup)}` +
      (interval ? ` (95% interval ${interval[0].toFixed(2)}–${fmt.speedup(interval[1])})` : '');
    const verdict =
      m.status === 'fail'
        ? 'fail: a timing check of the speedup, short of the target beyond timing noise'
        : 'inconclusive (not a failure, exit code 0): a timing check of the speedup that timing noise could not decide';
    const command = retimeCommand(
      { modelDir: run.modelDir, memberDir: join(run.runDir, m.dir), tableFile, tolerance: run.tolerance },
      retimeRounds(m.verification?.rounds),
    );
    const reason = m.statusReason ? `: ${m.statusReason}` : '';
    const again = m.status === 'inconclusive' ? ' (running this command again also re-times it)' : '';
    return [`${label(m)} ${fmt.speedup(m.target)} ${verdict}; ${measured}${reason}. Re-time it: ${command}${again}`];
  });
}

/**
 * Prints what a `prune` or `gradual` run found and returns its exit code. With `json`, the results as
 * JSON; otherwise the members table (first column `first`), the notes, the report's path and one
 * {@link verdictLines} line per member that is not a pass. Exit 5 only on a real miss: an
 * 'inconclusive' verdict (the interval straddles the bound) is not one.
 */
export function printRunResults(
  io: Pick<CommandIO, 'stdout'>,
  results: RunResults,
  run: { readonly runDir: string; readonly modelDir: string; readonly tolerance: number; readonly json: boolean },
  first: { header: string; cell: (member: RunResults['members'][number]) => string },
): ExitCode {
  const { runDir } = run;
  if (run.json) {
    io.stdout(`${JSON.stringify({ runDir, ...results }, null, 2)}\n`);
  } else {
    const verdicts = verdictLines(results, run, first.cell);
    io.stdout(
      `\ntask ${results.task}${results.labels ? ` (labels: ${results.labels.join(', ')})` : ''}\n` +
        `${results.metric.label}: dense ${fmt.metric(results.dense.metric)}\n${results.environment}\n\n` +
        `${membersTable(results, first)}\n\n` +
        `${results.notes.map((n) => `note: ${n}\n`).join('')}report: ${runDir}/report.md\n` +
        (verdicts.length > 0 ? `\n${verdicts.join('\n')}\n` : ''),
    );
  }
  return results.members.some((m) => m.status === 'fail') ? EXIT.checkFailed : EXIT.ok;
}
