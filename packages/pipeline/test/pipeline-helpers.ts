// Tiny models and calibration data for the pipeline tests.
import { seededRandom } from '@ziplm/core';
import { bertConfig, gpt2Config, randomCheckpoint, type Checkpoint } from '@ziplm/models';
import type { TaskItem } from '../src/tasks/index.js';

export function tinyBert(): Checkpoint {
  return randomCheckpoint(
    bertConfig({
      vocabSize: 30,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 4,
      intermediateSize: 32,
      maxPositions: 16,
      head: { type: 'classification', labels: ['a', 'b'] },
    }),
    { seed: 1, biasStd: 0.1 },
  );
}

export function tinyGpt2(): Checkpoint {
  return randomCheckpoint(
    gpt2Config({
      vocabSize: 30,
      hiddenSize: 16,
      numLayers: 2,
      numHeads: 4,
      intermediateSize: 32,
      maxPositions: 16,
      bosTokenId: 29,
      eosTokenId: 29,
    }),
    {
      seed: 2,
      biasStd: 0.1,
    },
  );
}

/** Deterministic sequences of varying length (so batches need padding). */
export function randomItems(count: number, vocab: number, seed = 7): TaskItem[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const length = 3 + (i % 9);
    const ids = Array.from({ length }, () => 1 + Math.floor(next() * (vocab - 1)));
    return { ids, typeIds: new Array<number>(length).fill(0) };
  });
}
