// Small configs and utilities shared by the model tests.
import * as tf from '@tensorflow/tfjs-core';
import { tinyBertOptions, tinyGpt2Options } from '@ziplm/test-utils';
import type { BertConfig, BertHead, Gpt2Config } from '../src/config.js';
import { bertConfig, gpt2Config } from '../src/config.js';

/** The tiny heterogeneous BERT of @ziplm/test-utils, built by this package (with a 3-label classifier by default). */
export function tinyBertConfig(head: BertHead = { type: 'classification', labels: ['a', 'b', 'c'] }): BertConfig {
  return bertConfig({ ...tinyBertOptions(), head });
}

/** The tiny heterogeneous GPT2 of @ziplm/test-utils, built by this package. */
export function tinyGpt2Config(): Gpt2Config {
  return gpt2Config(tinyGpt2Options());
}

/** int32 [rows, cols] tensor. */
export function ints(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

/** Disposes every tensor in a (nested) container. */
export function disposeAll(...xs: unknown[]): void {
  tf.dispose(xs as tf.TensorContainer);
}
