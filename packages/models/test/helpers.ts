// Small configs and utilities shared by the model tests.
import * as tf from '@tensorflow/tfjs-core';
import type { BertConfig, BertHead, Gpt2Config } from '../src/config.js';
import { bertConfig, gpt2Config } from '../src/config.js';

/**
 * A tiny BERT with heterogeneous layers: a partly pruned attention, a removed attention (layer 1),
 * a removed FFN (layer 2), a small FFN. Dropout rates are non-zero so that eval mode is tested too.
 */
export function tinyBertConfig(head: BertHead = { type: 'classification', labels: ['a', 'b', 'c'] }): BertConfig {
  return bertConfig({
    vocabSize: 40,
    hiddenSize: 16,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 24,
    layerHeads: [4, 0, 2, 3],
    layerIntermediate: [24, 11, 0, 5],
    maxPositions: 12,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    head,
  });
}

/** A tiny GPT2 with heterogeneous layers, a removed attention (layer 2) and a removed MLP (layer 0). */
export function tinyGpt2Config(): Gpt2Config {
  return gpt2Config({
    vocabSize: 37,
    hiddenSize: 16,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 64,
    layerHeads: [4, 1, 0, 3],
    layerIntermediate: [0, 64, 13, 7],
    maxPositions: 12,
    bosTokenId: 36,
    eosTokenId: 36,
  });
}

/** int32 [rows, cols] tensor. */
export function ints(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

/** Disposes every tensor in a (nested) container. */
export function disposeAll(...xs: unknown[]): void {
  tf.dispose(xs as tf.TensorContainer);
}
