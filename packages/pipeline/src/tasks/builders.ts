// The two task shapes every preset and custom task is built from: classification (accuracy or
// agreement with the dense model) and causal language modelling (perplexity), plus what they share:
// seeded samples, length-sorted batches, and the losses. Scoring runs the exported model in
// onnxruntime (the engine the model ships on, and ~5x faster than the tfjs wasm backend here).

import type { InferenceSession } from 'onnxruntime-node';
import { xorshift32 } from '@ziplm/core';
import { familyName, isDecoder, type ModelConfig } from '@ziplm/models';
import { chunkTokenIds, dataPath, hasData, padBatch, perplexity, type PaddedBatch } from '@ziplm/models/data';
import { ONNX_NAMES, onnxFeeds, type OrtTensorFactory } from '@ziplm/models/onnx';
import type { Tokenizer } from '@ziplm/models/tokenizers';
import { DEFAULT_EVAL_BATCH_SIZE, DEFAULT_SEED, DEFAULT_TASK_CALIBRATION_SAMPLES } from '../defaults.js';
import { TaskDataError } from '../errors.js';
import { optionError } from '../internal/options.js';
import type { MetricInfo } from '../results.js';
import { LOSS_ITEMS, type PreparedTask, type ScoreProgress, type TaskItem, type TaskOptions } from './types.js';

export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  // xorshift32 (@ziplm/core): the stream the calibration and evaluation samples have always been drawn from.
  const next = xorshift32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Batches of at most `batchSize` items sorted by length (less padding), with the items' original positions. */
export function lengthSortedBatches(items: readonly TaskItem[], padId: number, batchSize: number): PaddedBatch[] {
  const order = items.map((_, i) => i).sort((a, b) => items[a]!.ids.length - items[b]!.ids.length || a - b);
  const batches: PaddedBatch[] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    batches.push(
      padBatch(
        idx.map((k) => items[k]!),
        { padId },
        idx,
      ),
    );
  }
  return batches;
}

export async function runLogits(
  session: InferenceSession,
  ort: OrtTensorFactory,
  config: ModelConfig,
  batch: PaddedBatch,
): Promise<Float32Array> {
  const out = await session.run(onnxFeeds(ort, config, batch) as Parameters<InferenceSession['run']>[0]);
  return out[ONNX_NAMES.logits]!.data as Float32Array;
}

export function argmaxRows(logits: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c]! > logits[r * cols + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** −log softmax(row)[target], computed stably. */
export function crossEntropy(logits: Float32Array, offset: number, size: number, target: number): number {
  let max = -Infinity;
  for (let v = 0; v < size; v++) max = Math.max(max, logits[offset + v]!);
  let sum = 0;
  for (let v = 0; v < size; v++) sum += Math.exp(logits[offset + v]! - max);
  return max + Math.log(sum) - logits[offset + target]!;
}

export function argmaxOf(values: Float32Array, offset: number, size: number): number {
  let best = 0;
  for (let v = 1; v < size; v++) if (values[offset + v]! > values[offset + best]!) best = v;
  return best;
}

export function requireFile(...parts: string[]): string {
  const file = dataPath(...parts);
  if (!hasData(parts.join('/')))
    throw new TaskDataError(file, `not found (set ZIPLM_DATA_DIR to the directory holding ${parts.join('/')})`);
  return file;
}

/** The share of the most frequent label, in %: the accuracy of always predicting it. */
export function majorityClassRate(labels: readonly number[]): number {
  const counts = new Map<number, number>();
  let most = 0;
  for (const label of labels) {
    const count = (counts.get(label) ?? 0) + 1;
    counts.set(label, count);
    most = Math.max(most, count);
  }
  return labels.length === 0 ? 0 : (100 * most) / labels.length;
}

export function classificationTask(
  name: string,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  calibration: TaskItem[],
  evaluation: TaskItem[],
  files: string[],
  notes: string[],
  options: TaskOptions,
  training: () => TaskItem[],
): PreparedTask {
  if (config.modelType !== 'bert' || config.head.type !== 'classification') {
    throw optionError(
      'task',
      `"${name}" needs a BERT sequence classifier, the model is ${config.modelType}${config.modelType === 'bert' ? ` with a "${config.head.type}" head` : ''}`,
    );
  }
  const numLabels = config.head.labels.length;
  const batches = lengthSortedBatches(evaluation, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE.classification);
  const lossItems = calibration.slice(0, LOSS_ITEMS);
  const lossBatches = lengthSortedBatches(lossItems, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE.classification);
  const labelled = metric.name === 'accuracy' && evaluation.every((e) => e.label !== undefined);
  // The report's 95% interval (Wilson) needs the item count; its degenerate-member flag needs the
  // accuracy of a constant predictor, known here only when the metric is accuracy on gold labels
  // (agreement's labels are the dense model's predictions, known after scoring it).
  const metricInfo: MetricInfo = {
    ...metric,
    items: evaluation.length,
    ...(labelled ? { chance: majorityClassRate(evaluation.map((e) => e.label!)) } : {}),
  };
  return {
    name,
    labels: config.head.labels,
    metric: metricInfo,
    files,
    notes,
    calibration,
    kind: 'classification',
    training: (limit, seed) => seededShuffle(training(), seed ?? DEFAULT_SEED).slice(0, limit),
    ...(labelled ? { evaluationLabels: Int32Array.from(evaluation, (e) => e.label!) } : {}),
    async calibrationLoss(session, ort, pseudoLabels) {
      const predictions = new Int32Array(lossItems.length);
      let total = 0;
      for (const batch of lossBatches) {
        const logits = await runLogits(session, ort, config, batch);
        batch.indices.forEach((item, row) => {
          predictions[item] = argmaxOf(logits, row * numLabels, numLabels);
          const target = lossItems[item]!.label ?? pseudoLabels?.[item] ?? predictions[item]!;
          total += crossEntropy(logits, row * numLabels, numLabels, target);
        });
      }
      return { loss: total / lossItems.length, predictions };
    },
    async score(session, ort, dense, onProgress) {
      const predictions = new Int32Array(evaluation.length);
      let done = 0;
      for (const batch of batches) {
        const pred = argmaxRows(await runLogits(session, ort, config, batch), batch.batchSize, numLabels);
        batch.indices.forEach((item, row) => {
          predictions[item] = pred[row]!;
        });
        done += batch.batchSize;
        onProgress?.(done, evaluation.length);
      }
      let correct = 0;
      const agreement = metric.name === 'agreement';
      if (agreement && !dense?.predictions) {
        // The dense model agrees with itself.
        return { metric: 100, predictions };
      }
      for (let i = 0; i < evaluation.length; i++) {
        const truth = agreement ? dense!.predictions![i]! : evaluation[i]!.label!;
        if (predictions[i] === truth) correct++;
      }
      return { metric: (100 * correct) / evaluation.length, predictions };
    },
  };
}

/**
 * A classification task from a training split and a held-out split: calibration uses the first
 * `calibrationSamples` of the training split shuffled with `seed`, scoring the held-out split (its first
 * `evalLimit` items), and fine-tuning the whole training split, encoded on first use.
 */
export function splitClassificationTask<T>(
  name: string,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  options: TaskOptions,
  data: { readonly train: readonly T[]; readonly heldout: readonly T[]; readonly files: string[]; readonly notes: string[] },
  encode: (examples: readonly T[]) => TaskItem[],
): PreparedTask {
  const samples = options.calibrationSamples ?? DEFAULT_TASK_CALIBRATION_SAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  const evaluation = options.evalLimit !== undefined ? data.heldout.slice(0, options.evalLimit) : data.heldout;
  let encodedTraining: TaskItem[] | undefined;
  const training = () => (encodedTraining ??= encode(data.train));
  return classificationTask(
    name,
    metric,
    config,
    tokenizer,
    encode(seededShuffle(data.train, seed).slice(0, samples)),
    encode(evaluation),
    data.files,
    data.notes,
    options,
    training,
  );
}

export function lmTask(
  name: string,
  metric: MetricInfo,
  config: ModelConfig,
  tokenizer: Tokenizer,
  calibration: TaskItem[],
  evaluation: TaskItem[],
  files: string[],
  notes: string[],
  options: TaskOptions,
  training: () => TaskItem[],
): PreparedTask {
  if (!isDecoder(config)) throw optionError('task', `"${name}" needs a language model (GPT2 or LLaMA), the model is ${familyName(config)}`);
  const batches = lengthSortedBatches(evaluation, tokenizer.padId, options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['causal-lm']);
  const lossBatches = lengthSortedBatches(
    calibration.slice(0, LOSS_ITEMS),
    tokenizer.padId,
    options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE['causal-lm'],
  );
  const vocab = config.vocabSize;
  /** Σ next-token NLL and the number of predicted tokens. */
  const nll = async (session: InferenceSession, ort: OrtTensorFactory, list: PaddedBatch[], onProgress?: ScoreProgress) => {
    let total = 0;
    let count = 0;
    let done = 0;
    const sequences = list.reduce((n, b) => n + b.batchSize, 0);
    for (const batch of list) {
      const logits = await runLogits(session, ort, config, batch);
      const { batchSize: b, seqLength: s, inputIds, attentionMask } = batch;
      for (let r = 0; r < b; r++) {
        for (let t = 0; t + 1 < s; t++) {
          if (!attentionMask[r * s + t + 1]) continue;
          total += crossEntropy(logits, (r * s + t) * vocab, vocab, inputIds[r * s + t + 1]!);
          count++;
        }
      }
      done += b;
      onProgress?.(done, sequences);
    }
    return { total, count };
  };
  return {
    name,
    metric,
    files,
    notes,
    calibration,
    kind: 'causal-lm',
    training: (limit, seed) => seededShuffle(training(), seed ?? DEFAULT_SEED).slice(0, limit),
    async score(session, ort, _dense, onProgress) {
      const { total, count } = await nll(session, ort, batches, onProgress);
      return { metric: perplexity(total, count) };
    },
    async calibrationLoss(session, ort) {
      const { total, count } = await nll(session, ort, lossBatches);
      return { loss: total / Math.max(1, count), predictions: new Int32Array(0) };
    },
  };
}

/**
 * Documents as one token stream (each followed by `eos`), cut into non-overlapping chunks of `length`
 * tokens; the last, shorter chunk is dropped (perplexity on fixed-length chunks, guide/data.md).
 */
export function documentChunks(documents: readonly string[], tokenizer: Tokenizer, eos: number, length: number): TaskItem[] {
  const ids: number[] = [];
  // A loop, not push(...ids): spreading a long document's ids overflows the call stack.
  for (const document of documents) {
    for (const id of tokenizer.encode(document).ids) ids.push(id);
    ids.push(eos);
  }
  return chunkTokenIds(ids, length).map((c) => ({ ids: [...c], typeIds: new Array<number>(c.length).fill(0) }));
}
