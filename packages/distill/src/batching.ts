// Training examples, the deterministic length-bucketed epoch plan, and padded batch tensors.
//
// Bucketing: an epoch shuffles the examples, cuts the shuffled list into chunks of `bucketBatches` batches,
// sorts each chunk by length and cuts it into batches, then shuffles the batch order. Batches then hold
// sentences of similar length (little padding: SST-2 sentences range from 3 to 60+ tokens) while the data
// order stays random at the scale of a chunk. The plan depends only on the Rng state at the start of the epoch,
// which is what a training checkpoint stores: a resumed run rebuilds the same plan and skips to its position.

import * as tf from '@tensorflow/tfjs-core';
import type { SeededRng } from '@ziplm/core';
import { TrainingConfigError } from './errors.js';
import type { TaskKind, TaskTargets } from './losses.js';

/** One tokenized training example. */
export interface TrainingExample {
  /** Token ids, special tokens included, already truncated to the model's maximum length. */
  readonly inputIds: readonly number[];
  /** BERT segment ids (default all 0). Ignored for GPT2. */
  readonly typeIds?: readonly number[];
  /** Class index (classification). */
  readonly label?: number;
  /** Token index of the answer start (span QA). */
  readonly startPosition?: number;
  /** Token index of the answer end, inclusive (span QA). */
  readonly endPosition?: number;
}

/** Options of {@link planEpoch}. */
export interface EpochPlanOptions {
  readonly batchSize: number;
  /**
   * Batches per length bucket (default 50). 1 disables bucketing in effect (each batch is a random sample);
   * a very large value sorts the whole epoch by length (least padding, least randomness).
   */
  readonly bucketBatches?: number;
}

/** Number of batches of one epoch of `count` examples: ceil(count / batchSize) (see {@link planEpoch}). */
export function batchesPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/**
 * The batches of one epoch as lists of example indices. Consumes `rng`. Every chunk but the last holds a
 * multiple of `batchSize` examples, so the epoch has exactly {@link batchesPerEpoch} batches and at most one
 * of them is smaller than `batchSize`.
 */
export function planEpoch(lengths: readonly number[], rng: SeededRng, options: EpochPlanOptions): number[][] {
  const { batchSize } = options;
  const bucketBatches = options.bucketBatches ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new TrainingConfigError('batchSize', `must be an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(bucketBatches) || bucketBatches < 1)
    throw new TrainingConfigError('bucketBatches', `must be an integer >= 1, got ${bucketBatches}`);
  const order = rng.shuffle(Array.from({ length: lengths.length }, (_, i) => i));
  const chunkSize = batchSize * bucketBatches;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += chunkSize) {
    // Stable sort by length; ties keep the shuffled order.
    const chunk = order.slice(start, start + chunkSize).sort((a, b) => lengths[a]! - lengths[b]!);
    for (let b = 0; b < chunk.length; b += batchSize) batches.push(chunk.slice(b, b + batchSize));
  }
  return rng.shuffle(batches);
}

/** Model inputs of a batch (the @ziplm/models ModelInputs contract). */
export interface BatchInputs {
  readonly inputIds: tf.Tensor2D;
  readonly attentionMask: tf.Tensor2D;
  readonly tokenTypeIds?: tf.Tensor2D;
}

/** A padded batch: inputs, targets and the number of real tokens. Dispose with {@link disposeBatch}. */
export interface Batch {
  readonly inputs: BatchInputs;
  readonly targets: TaskTargets;
  /** Number of real (non-padding) tokens. */
  readonly tokens: number;
  /** Number of examples. */
  readonly size: number;
  /** Padded sequence length. */
  readonly length: number;
}

/** Options of {@link makeBatch}. */
export interface MakeBatchOptions {
  readonly task: TaskKind;
  /** Id written into padded positions (their mask is 0, so any valid id works). */
  readonly padId: number;
  /** Whether to build token type ids (BERT). */
  readonly tokenTypes: boolean;
}

/**
 * Pads the examples at `indices` on the right to the longest of them and builds int32 tensors:
 * input ids, attention mask (1 = real), token type ids (BERT) and the task's targets.
 */
export function makeBatch(examples: readonly TrainingExample[], indices: readonly number[], options: MakeBatchOptions): Batch {
  const size = indices.length;
  if (size === 0) throw new TrainingConfigError('batch', 'is empty');
  let length = 0;
  for (const i of indices) {
    const ex = examples[i];
    if (!ex) throw new TrainingConfigError('batch', `refers to example ${i}, but there are ${examples.length}`);
    if (ex.inputIds.length === 0) throw new TrainingConfigError(`examples[${i}]`, 'has no tokens');
    length = Math.max(length, ex.inputIds.length);
  }
  const ids = new Int32Array(size * length).fill(options.padId);
  const mask = new Int32Array(size * length);
  const types = options.tokenTypes ? new Int32Array(size * length) : undefined;
  const labels = new Int32Array(size);
  const starts = new Int32Array(size);
  const ends = new Int32Array(size);
  let tokens = 0;
  indices.forEach((exampleIndex, row) => {
    const ex = examples[exampleIndex]!;
    const n = ex.inputIds.length;
    for (let t = 0; t < n; t++) {
      ids[row * length + t] = ex.inputIds[t]!;
      mask[row * length + t] = 1;
      if (types && ex.typeIds) types[row * length + t] = ex.typeIds[t] ?? 0;
    }
    tokens += n;
    if (options.task === 'classification') {
      if (!Number.isInteger(ex.label))
        throw new TrainingConfigError(`examples[${exampleIndex}].label`, `must be an integer class index, got ${ex.label}`);
      labels[row] = ex.label!;
    } else if (options.task === 'span-qa') {
      const { startPosition: s, endPosition: e } = ex;
      if (!Number.isInteger(s) || !Number.isInteger(e) || s! < 0 || e! < s! || e! >= n) {
        throw new TrainingConfigError(`examples[${exampleIndex}]`, `needs 0 <= startPosition <= endPosition < ${n}, got ${s}..${e}`);
      }
      starts[row] = s!;
      ends[row] = e!;
    }
  });
  const inputIds = tf.tensor2d(ids, [size, length], 'int32');
  const inputs: BatchInputs = {
    inputIds,
    attentionMask: tf.tensor2d(mask, [size, length], 'int32'),
    ...(types ? { tokenTypeIds: tf.tensor2d(types, [size, length], 'int32') } : {}),
  };
  const targets: TaskTargets =
    options.task === 'classification'
      ? { kind: 'classification', labels: tf.tensor1d(labels, 'int32') }
      : options.task === 'span-qa'
        ? { kind: 'span-qa', startPositions: tf.tensor1d(starts, 'int32'), endPositions: tf.tensor1d(ends, 'int32') }
        : { kind: 'causal-lm', inputIds };
  return { inputs, targets, tokens, size, length };
}

/** Frees every tensor of a batch. */
export function disposeBatch(batch: Batch): void {
  const { inputs, targets } = batch;
  inputs.inputIds.dispose();
  inputs.attentionMask.dispose();
  inputs.tokenTypeIds?.dispose();
  if (targets.kind === 'classification') targets.labels.dispose();
  else if (targets.kind === 'span-qa') {
    targets.startPositions.dispose();
    targets.endPositions.dispose();
  }
  // causal-lm targets are the input ids, already disposed.
}
