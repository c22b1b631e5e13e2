import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { TINY_VOCAB_CORPUS, makeTinyModels } from '../scripts/make-tiny-models.js';
import { hasData } from '../src/data/index.js';
import { BUILTIN_MODELS, builtinModelDir, builtinModelDirs } from '../src/io/builtin.js';
import { loadModelDir } from '../src/io/checkpoint.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import { disposeAll } from './helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('built-in tiny models', () => {
  it('exist, are small, and their directories resolve from the package', async () => {
    const dirs = builtinModelDirs();
    expect(Object.keys(dirs).sort()).toEqual([...BUILTIN_MODELS].sort());
    for (const name of BUILTIN_MODELS) {
      expect(dirs[name]).toBe(builtinModelDir(name));
      expect(dirs[name]).toMatch(/packages\/models\/assets\/tiny-(bert|gpt2)$/);
      let total = 0;
      for (const f of await readdir(dirs[name])) total += (await stat(join(dirs[name], f))).size;
      expect(total, name).toBeLessThan(1_000_000);
    }
    expect(() => builtinModelDir('tiny-t5' as never)).toThrow(/unknown built-in model/);
  });

  it('tiny-bert: a 2-label classifier with a WordPiece vocabulary, several layers and heads, FFN 4x hidden', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-bert'));
    const c = checkpoint.config;
    expect(c.modelType).toBe('bert');
    if (c.modelType !== 'bert') return;
    expect(c.head).toEqual({ type: 'classification', labels: ['negative', 'positive'] });
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.numHeads).toBeGreaterThanOrEqual(4);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    expect(tokenizer.type).toBe('wordpiece');
    expect(tokenizer.vocabSize).toBe(c.vocabSize);
    const enc = tokenizer.encode('a gripping , funny film', 'not a dull moment');
    expect(enc.ids.some((id) => id === 1)).toBe(false); // no [UNK]: the vocabulary covers SST-2 text
    const model = createModel(checkpoint);
    const before = tf.memory().numTensors;
    const inputs = {
      inputIds: tf.tensor2d([enc.ids], [1, enc.ids.length], 'int32'),
      attentionMask: tf.tensor2d([enc.attentionMask], [1, enc.ids.length], 'int32'),
      tokenTypeIds: tf.tensor2d([enc.typeIds], [1, enc.ids.length], 'int32'),
    };
    const out = model.forward(inputs);
    expect(out.logits.shape).toEqual([1, 2]);
    expect(Array.from(out.logits.dataSync()).every(Number.isFinite)).toBe(true);
    disposeAll(out, inputs);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('tiny-gpt2: a language model with a byte-level BPE vocabulary ending in <|endoftext|>', async () => {
    const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-gpt2'));
    const c = checkpoint.config;
    expect(c.modelType).toBe('gpt2');
    if (c.modelType !== 'gpt2') return;
    expect(c.numLayers).toBeGreaterThanOrEqual(4);
    expect(c.intermediateSize).toBe(4 * c.hiddenSize);
    expect(tokenizer.type).toBe('bpe');
    expect(c.eosTokenId).toBe(c.vocabSize - 1);
    const ids = tokenizer.encode('The film is a charming, funny ride.').ids;
    expect(tokenizer.decode(ids)).toBe('The film is a charming, funny ride.');
    const model = createModel(checkpoint);
    const inputIds = tf.tensor2d([ids], [1, ids.length], 'int32');
    const out = model.forward({ inputIds });
    expect(out.logits.shape).toEqual([1, ids.length, c.vocabSize]);
    disposeAll(out, inputIds);
    model.dispose();
  });

  it.skipIf(!hasData(join(...TINY_VOCAB_CORPUS)))('are reproduced byte for byte by scripts/make-tiny-models.ts (needs SST-2)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ziplm-tiny-'));
    try {
      const dirs = await makeTinyModels(out);
      for (const [name, dir] of [
        ['tiny-bert', dirs.bert],
        ['tiny-gpt2', dirs.gpt2],
      ] as const) {
        const files = (await readdir(dir)).sort();
        expect((await readdir(builtinModelDir(name))).sort()).toEqual(files);
        for (const f of files)
          expect((await readFile(join(dir, f))).equals(await readFile(join(builtinModelDir(name), f))), `${name}/${f}`).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
