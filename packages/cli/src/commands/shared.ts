// Options several commands share: the inference environment, and formatting of result tables.

import { basename, resolve } from 'node:path';
import type { InferenceEnvironment, InferenceEnvironmentOptions } from '@ziplm/latency';
import type { RunResults } from '@ziplm/pipeline';
import type { OptionsFor, OptionsSpec, ParsedOptions } from '../command.js';
import { UsageError } from '../command.js';

export const ENVIRONMENT_OPTIONS = {
  mode: {
    type: 'string',
    description: 'Inference mode: latency (batch 1), throughput (large batches) or generation (GPT2, one token with a KV cache)',
    choices: ['latency', 'throughput', 'generation'],
    default: 'latency',
  },
  batchSize: { type: 'number', description: 'Sequences per forward pass (default: 1, or 32 in throughput mode)', valueName: 'N' },
  seqLength: { type: 'number', description: 'Tokens per sequence (full-sequence modes)', default: 128, valueName: 'N' },
  pastLength: { type: 'number', description: 'KV-cache length in generation mode', default: 50, valueName: 'N' },
  threads: { type: 'number', description: 'onnxruntime intra-op threads', default: 2, valueName: 'N' },
} as const satisfies OptionsFor<InferenceEnvironmentOptions>;

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
    ...(mode === 'generation' ? { pastLength: o.pastLength } : { sequenceLength: o.seqLength }),
  };
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

/** A default run directory named after the model and the environment. */
export function defaultRunDir(cwd: string, modelDir: string, kind: string, env: InferenceEnvironment): string {
  const shape = env.mode === 'generation' ? `b${env.batchSize}-p${env.pastLength}` : `b${env.batchSize}-s${env.sequenceLength}`;
  return resolve(cwd, 'runs', `${basename(modelDir)}-${kind}-${env.mode}-${shape}`);
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
  return textTable([first.header, 'target', 'predicted', 'measured', 'deviation', 'status', results.metric.name], rows);
}
