// The demo's classification and timing, without the page: tokenizing with ziplm's own WordPiece tokenizer
// (built from the vocabulary the page fetched), feeding a fixed-length batch of one, reading the label,
// and timing several models fairly. Browser-safe; test/demo-classify.test.ts runs it in Node.

import { median } from '@ziplm/core';
import { WordPieceTokenizer } from '@ziplm/models/tokenizers';
import type { DemoTokenizerOptions } from './demo-manifest.ts';

/** The tokenizer the models were trained with, from the manifest's settings and the fetched vocabulary. */
export function demoTokenizer(vocabulary: readonly string[], options: DemoTokenizerOptions): WordPieceTokenizer {
  return new WordPieceTokenizer({ vocab: vocabulary, ...options });
}

/** A batch of one sequence, as the exported BERT graph takes it (int64, shape [1, sequenceLength]). */
export interface FixedLengthInput {
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
  /** Real tokens ([CLS] and [SEP] included); the rest is padding. */
  readonly tokens: number;
  /** Whether the text had more tokens than fit. */
  readonly truncated: boolean;
}

/**
 * Encodes `text` and right-pads it to `sequenceLength`: every model is timed at the length its latency
 * table was measured at, so the speedups shown compare with the targets. The padding is masked out, so
 * labels do not depend on it.
 */
export function encodeFixedLength(tokenizer: WordPieceTokenizer, text: string, sequenceLength: number): FixedLengthInput {
  const full = tokenizer.encode(text);
  const encoding = full.ids.length > sequenceLength ? tokenizer.encode(text, undefined, { maxLength: sequenceLength }) : full;
  const inputIds = new BigInt64Array(sequenceLength).fill(BigInt(tokenizer.padId));
  const attentionMask = new BigInt64Array(sequenceLength);
  const tokenTypeIds = new BigInt64Array(sequenceLength);
  encoding.ids.forEach((id, t) => {
    inputIds[t] = BigInt(id);
    attentionMask[t] = 1n;
    tokenTypeIds[t] = BigInt(encoding.typeIds[t] ?? 0);
  });
  return { inputIds, attentionMask, tokenTypeIds, tokens: encoding.ids.length, truncated: encoding !== full };
}

/** Softmax of one row of logits, computed stably (max subtracted). */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** A predicted class: its index, its name and its softmax probability. */
export interface Prediction {
  readonly labelId: number;
  readonly label: string;
  readonly score: number;
}

/** The most probable class (the first one on a tie, as argmax does). */
export function predict(logits: ArrayLike<number>, labels: readonly string[]): Prediction {
  if (logits.length !== labels.length) throw new RangeError(`${logits.length} logits for ${labels.length} labels`);
  const probabilities = softmax(logits);
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return { labelId: best, label: labels[best]!, score: probabilities[best]! };
}

/** What the timing loop needs of a model: one forward pass on the current input. */
export interface TimedRunner {
  readonly name: string;
  run(): Promise<unknown>;
}

export interface TimingOptions {
  /** Rounds after the warm-up round: every model runs once per round. */
  readonly rounds: number;
  /** Runs of one model inside one sample, so that a sample lasts well over the timer's resolution. */
  readonly runsPerSample: number;
  /** Stop early once this much time (ms) went into timing; at least `minRounds` rounds are kept. */
  readonly budgetMs: number;
  readonly minRounds: number;
  /** Called between rounds; timing stops early when it returns true (e.g. the reader typed again). */
  readonly cancelled?: () => boolean;
  /** Lets the page repaint between rounds. */
  readonly yieldToPage?: () => Promise<void>;
  readonly now?: () => number;
}

/** Per model: the median time of one run (ms) and the samples behind it. */
export interface ModelTiming {
  readonly name: string;
  readonly medianMs: number;
  readonly samplesMs: readonly number[];
}

/**
 * Times every runner in interleaved rounds (dense, member 1, member 2, … then again), so that a change in
 * the machine's speed (another tab, a thermal step) hits every model alike and the ratios stay fair; the
 * first round warms every model up and is not counted. Each sample is `runsPerSample` back-to-back runs
 * divided by that count; each model's time is the median of its samples.
 * Returns null when cancelled before `minRounds` rounds.
 */
export async function timeInterleaved(runners: readonly TimedRunner[], options: TimingOptions): Promise<ModelTiming[] | null> {
  const now = options.now ?? (() => performance.now());
  const samples = runners.map(() => [] as number[]);
  for (const runner of runners) await runner.run(); // warm-up round
  const start = now();
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, runner] of runners.entries()) {
      const t0 = now();
      for (let k = 0; k < options.runsPerSample; k++) await runner.run();
      samples[i]!.push((now() - t0) / options.runsPerSample);
    }
    await options.yieldToPage?.();
    if (options.cancelled?.()) return round + 1 >= options.minRounds ? summarise(runners, samples) : null;
    if (round + 1 >= options.minRounds && now() - start > options.budgetMs) break;
  }
  return summarise(runners, samples);
}

function summarise(runners: readonly TimedRunner[], samples: number[][]): ModelTiming[] {
  return runners.map((r, i) => ({ name: r.name, medianMs: median(samples[i]!), samplesMs: samples[i]! }));
}

/**
 * Runs per sample so that one sample of the fastest model lasts at least `minSampleMs`: with a 100 µs
 * clock (no cross-origin isolation) a 0.5 ms run timed alone would be off by up to 20%.
 */
export function runsPerSampleFor(fastestRunMs: number, minSampleMs: number, maxRuns = 32): number {
  if (!(fastestRunMs > 0)) return maxRuns;
  return Math.max(1, Math.min(maxRuns, Math.ceil(minSampleMs / fastestRunMs)));
}
