// A bag-of-words baseline: logistic regression on the token counts of a sequence (order ignored).
// It answers "does this task need more than word identity?": a testbed whose layers matter must beat
// it clearly (guide: data, apps/docs/guide/data.md). Plain typed arrays, no TensorFlow.js: it trains in
// seconds on tens of thousands of sentences.

import { SeededRng } from '@ziplm/core';
import type { TrainingExample } from './batching.js';
import { TrainingConfigError } from './errors.js';

export interface BagOfWordsOptions {
  /** Token ids are in [0, vocabSize). */
  readonly vocabSize: number;
  /** Ids left out of the bag (e.g. [CLS], [SEP], [PAD]). */
  readonly ignoreIds?: readonly number[];
  /** Passes over the training set per L2 strength (default 5). */
  readonly epochs?: number;
  /** L2 strengths tried; the one with the best validation accuracy is kept (default [0, 1e-5, 1e-4, 1e-3]). */
  readonly l2?: readonly number[];
  /** Step size of SGD (default 0.1). */
  readonly learningRate?: number;
  readonly seed?: number;
}

export interface BagOfWordsResult {
  /** Accuracy (fraction) on the validation set, for the chosen L2 strength. */
  readonly validationAccuracy: number;
  /** Accuracy (fraction) on the evaluation set. */
  readonly accuracy: number;
  readonly l2: number;
  readonly epochs: number;
}

/** An example as the normalised counts of its distinct tokens. */
interface Bag {
  readonly ids: Int32Array;
  readonly values: Float32Array;
  readonly label: number;
}

function toBag(e: TrainingExample, vocabSize: number, ignore: ReadonlySet<number>): Bag {
  const counts = new Map<number, number>();
  let n = 0;
  for (const id of e.inputIds) {
    if (ignore.has(id)) continue;
    if (!(Number.isInteger(id) && id >= 0 && id < vocabSize))
      throw new TrainingConfigError('inputIds', `token id ${id} is outside [0, ${vocabSize})`);
    counts.set(id, (counts.get(id) ?? 0) + 1);
    n++;
  }
  const ids = Int32Array.from(counts.keys());
  const values = Float32Array.from(counts.values(), (c) => c / Math.max(1, n));
  if (e.label !== 0 && e.label !== 1) throw new TrainingConfigError('label', `the bag-of-words baseline is binary: got label ${e.label}`);
  return { ids, values, label: e.label };
}

function score(w: Float32Array, bias: number, bag: Bag): number {
  let z = bias;
  for (let i = 0; i < bag.ids.length; i++) z += w[bag.ids[i]!]! * bag.values[i]!;
  return z;
}

function accuracy(w: Float32Array, bias: number, bags: readonly Bag[]): number {
  let correct = 0;
  for (const b of bags) if ((score(w, bias, b) > 0 ? 1 : 0) === b.label) correct++;
  return bags.length === 0 ? 0 : correct / bags.length;
}

/**
 * Trains binary logistic regression on bags of tokens with SGD, for each L2 strength, keeps the one
 * with the best validation accuracy, and reports its accuracy on `evaluation`. Deterministic for `seed`.
 */
export function trainBagOfWordsBaseline(
  train: readonly TrainingExample[],
  validation: readonly TrainingExample[],
  evaluation: readonly TrainingExample[],
  options: BagOfWordsOptions,
): BagOfWordsResult {
  const { vocabSize } = options;
  if (!(Number.isInteger(vocabSize) && vocabSize >= 1))
    throw new TrainingConfigError('vocabSize', `must be an integer >= 1, got ${vocabSize}`);
  if (train.length === 0) throw new TrainingConfigError('train', 'is empty');
  const epochs = options.epochs ?? 5;
  const lr = options.learningRate ?? 0.1;
  const ignore = new Set(options.ignoreIds ?? []);
  const bags = (set: readonly TrainingExample[]) => set.map((e) => toBag(e, vocabSize, ignore));
  const trainBags = bags(train);
  const validationBags = bags(validation);
  const evaluationBags = bags(evaluation);
  let best: BagOfWordsResult | undefined;
  for (const l2 of options.l2 ?? [0, 1e-5, 1e-4, 1e-3]) {
    const rng = new SeededRng(options.seed ?? 0);
    const w = new Float32Array(vocabSize);
    let bias = 0;
    const order = trainBags.map((_, i) => i);
    for (let epoch = 0; epoch < epochs; epoch++) {
      rng.shuffle(order);
      for (const k of order) {
        const bag = trainBags[k]!;
        const p = 1 / (1 + Math.exp(-score(w, bias, bag)));
        const g = p - bag.label;
        // L2 applied lazily to the touched weights only (the usual sparse-SGD approximation).
        for (let i = 0; i < bag.ids.length; i++) {
          const id = bag.ids[i]!;
          w[id] = w[id]! - lr * (g * bag.values[i]! + l2 * w[id]!);
        }
        bias -= lr * g;
      }
    }
    const result = {
      validationAccuracy: accuracy(w, bias, validationBags),
      accuracy: accuracy(w, bias, evaluationBags),
      l2,
      epochs,
    };
    if (best === undefined || result.validationAccuracy > best.validationAccuracy) best = result;
  }
  return best!;
}
