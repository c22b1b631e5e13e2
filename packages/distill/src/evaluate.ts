// Evaluation in inference mode (no dropout, no tape): accuracy of a classifier, perplexity of a causal LM,
// exact start/end match of a span-QA model. Batches are formed in length order (no randomness), so the same
// model always gets the same figures.

import * as tf from '@tensorflow/tfjs-core';
import { hasTokenTypes } from '@ziplm/models';
import { disposeBatch, makeBatch, type TrainingExample } from './batching.js';
import { TrainingConfigError } from './errors.js';
import type { TaskKind } from './losses.js';
import type { ForwardModel } from './model.js';
import { padIdOf } from './model.js';

/** Options shared by the evaluation functions. */
export interface EvaluationOptions {
  /** Examples per forward pass (default 32). */
  readonly batchSize?: number;
}

/** Batches of example indices in increasing length (ties in index order): least padding, deterministic. */
function lengthOrderedBatches(examples: readonly TrainingExample[], batchSize: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new TrainingConfigError('batchSize', `must be an integer >= 1, got ${batchSize}`);
  const order = Array.from({ length: examples.length }, (_, i) => i).sort(
    (a, b) => examples[a]!.inputIds.length - examples[b]!.inputIds.length || a - b,
  );
  const batches: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize));
  return batches;
}

async function forEachBatch(
  model: ForwardModel,
  examples: readonly TrainingExample[],
  task: TaskKind,
  batchSize: number,
  visit: (indices: number[], logits: tf.Tensor, mask: tf.Tensor2D, ids: tf.Tensor2D) => Promise<void>,
): Promise<void> {
  if (examples.length === 0) throw new TrainingConfigError('examples', 'is empty: nothing to evaluate');
  const padId = padIdOf(model.config);
  const tokenTypes = hasTokenTypes(model.config);
  for (const indices of lengthOrderedBatches(examples, batchSize)) {
    const batch = makeBatch(examples, indices, { task, padId, tokenTypes });
    try {
      const logits = tf.tidy(() => model.forward(batch.inputs, { training: false }).logits);
      try {
        await visit(indices, logits, batch.inputs.attentionMask, batch.inputs.inputIds);
      } finally {
        logits.dispose();
      }
    } finally {
      disposeBatch(batch);
    }
  }
}

/** Result of {@link evaluateClassification}. */
export interface ClassificationMetrics {
  /** Fraction of examples whose arg-max class equals the label. */
  accuracy: number;
  /** Mean cross-entropy. */
  loss: number;
  count: number;
}

/** Accuracy and mean cross-entropy of a sequence classifier on labelled examples. */
export async function evaluateClassification(
  model: ForwardModel,
  examples: readonly TrainingExample[],
  options: EvaluationOptions = {},
): Promise<ClassificationMetrics> {
  let correct = 0;
  let lossSum = 0;
  await forEachBatch(model, examples, 'classification', options.batchSize ?? 32, async (indices, logits) => {
    const values = (await logits.data()) as Float32Array;
    const classes = logits.shape[1]!;
    indices.forEach((exampleIndex, row) => {
      const label = examples[exampleIndex]!.label!;
      let argmax = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        const v = values[row * classes + c]!;
        if (v > max) {
          max = v;
          argmax = c;
        }
      }
      // log-sum-exp in double precision for the cross-entropy.
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(values[row * classes + c]! - max);
      lossSum += max + Math.log(sum) - values[row * classes + label]!;
      if (argmax === label) correct += 1;
    });
  });
  return { accuracy: correct / examples.length, loss: lossSum / examples.length, count: examples.length };
}

/** Result of {@link evaluatePerplexity}. */
export interface PerplexityMetrics {
  /** exp(mean NLL per predicted token). */
  perplexity: number;
  /** Mean NLL per predicted token (nats). */
  loss: number;
  /** Number of predicted tokens (each sequence predicts all but its first token). */
  tokens: number;
}

/**
 * Perplexity of a causal LM: exp(Σ NLL / number of predicted tokens), where each sequence (e.g. a fixed-length
 * chunk of a test text) predicts its tokens 2..n from their prefixes (the standard non-overlapping chunk
 * protocol, guide/paper.md).
 */
export async function evaluatePerplexity(
  model: ForwardModel,
  sequences: readonly TrainingExample[],
  options: EvaluationOptions = {},
): Promise<PerplexityMetrics> {
  let nllSum = 0;
  let tokens = 0;
  await forEachBatch(model, sequences, 'causal-lm', options.batchSize ?? 8, async (_indices, logits, mask, ids) => {
    const [batch, seq, vocab] = logits.shape as [number, number, number];
    // Per-token NLL of the next token, in the graph (a [b, s, V] download would be large), summed with the mask.
    const [sum, count] = tf.tidy(() => {
      const logP = tf.logSoftmax(logits.slice([0, 0, 0], [batch, seq - 1, vocab]));
      const targets = tf.oneHot(ids.slice([0, 1], [batch, seq - 1]), vocab).toFloat();
      const weights = mask.toFloat().slice([0, 1], [batch, seq - 1]);
      const nll = targets.mul(logP).sum(-1).neg().mul(weights);
      return [nll.sum(), weights.sum()];
    });
    nllSum += (await sum.data())[0]!;
    tokens += (await count.data())[0]!;
    tf.dispose([sum, count]);
  });
  if (tokens === 0) throw new TrainingConfigError('sequences', 'predict no token (every sequence needs at least 2 tokens)');
  const loss = nllSum / tokens;
  return { perplexity: Math.exp(loss), loss, tokens };
}

/** Result of {@link evaluateSpans}. */
export interface SpanMetrics {
  /** Fraction of examples whose arg-max start and end both equal the labelled ones. */
  exactMatch: number;
  startAccuracy: number;
  endAccuracy: number;
  count: number;
}

/**
 * Token-level span accuracy of an extractive QA model: arg-max of the start and end logits over the real
 * tokens, compared with the labelled positions. (SQuAD's EM/F1 over answer text needs the offsets and
 * normalisation of the official script; this is the tokenizer-independent part.)
 */
export async function evaluateSpans(
  model: ForwardModel,
  examples: readonly TrainingExample[],
  options: EvaluationOptions = {},
): Promise<SpanMetrics> {
  let start = 0;
  let end = 0;
  let both = 0;
  await forEachBatch(model, examples, 'span-qa', options.batchSize ?? 16, async (indices, logits, mask) => {
    const values = (await logits.data()) as Float32Array;
    const m = (await mask.data()) as Int32Array;
    const seq = logits.shape[1]!;
    indices.forEach((exampleIndex, row) => {
      const ex = examples[exampleIndex]!;
      let bestStart = 0;
      let bestEnd = 0;
      for (let t = 0; t < seq; t++) {
        if (m[row * seq + t] === 0) continue;
        if (values[(row * seq + t) * 2]! > values[(row * seq + bestStart) * 2]!) bestStart = t;
        if (values[(row * seq + t) * 2 + 1]! > values[(row * seq + bestEnd) * 2 + 1]!) bestEnd = t;
      }
      const s = bestStart === ex.startPosition;
      const e = bestEnd === ex.endPosition;
      if (s) start += 1;
      if (e) end += 1;
      if (s && e) both += 1;
    });
  });
  const n = examples.length;
  return { exactMatch: both / n, startAccuracy: start / n, endAccuracy: end / n, count: n };
}
