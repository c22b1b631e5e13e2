import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bertConfig, gpt2Config, toHfConfig } from '../src/config.js';
import { ConfigError, VocabularyError, WeightsError } from '../src/errors.js';
import {
  CONFIG_FILE,
  WEIGHTS_FILE,
  checkCheckpoint,
  loadCheckpoint,
  loadModelDir,
  readConfigFile,
  saveCheckpoint,
} from '../src/io/checkpoint.js';
import { encodeSafetensors, readSafetensorsHeader } from '../src/io/safetensors.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import { randomCheckpoint } from '../src/random.js';
import type { Checkpoint, Tensor32, WeightMap } from '../src/weights.js';
import { disposeAll, ints, tinyBertConfig, tinyGpt2Config } from './helpers.js';

let root: string;
let n = 0;
const fresh = async () => {
  const d = join(root, `ckpt-${++n}`);
  await mkdir(d, { recursive: true });
  return d;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-checkpoint-'));
  await initBackend('wasm');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function bits(t: Tensor32): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function expectSameCheckpoint(a: Checkpoint, b: Checkpoint): void {
  expect(a.config).toEqual(b.config);
  expect([...a.weights.keys()]).toEqual([...b.weights.keys()]);
  for (const [name, t] of b.weights) {
    expect(a.weights.get(name)!.shape, name).toEqual(t.shape);
    expect(bits(a.weights.get(name)!), name).toEqual(bits(t));
  }
}

/** Writes config.json (object) and model.safetensors (tensors under their stored names). */
async function writeRaw(dir: string, config: unknown, tensors: WeightMap | Array<[string, Tensor32]>): Promise<void> {
  await writeFile(join(dir, CONFIG_FILE), JSON.stringify(config));
  await writeFile(join(dir, WEIGHTS_FILE), encodeSafetensors(tensors, { metadata: { format: 'pt' } }));
}

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips a pruned BERT classifier bit-exactly, with identical outputs', async () => {
    const ckpt = randomCheckpoint(tinyBertConfig(), { seed: 1, std: 0.3, biasStd: 0.1 });
    const dir = await fresh();
    expect(await saveCheckpoint(dir, ckpt)).toEqual([WEIGHTS_FILE, CONFIG_FILE]);
    const loaded = await loadCheckpoint(dir);
    expectSameCheckpoint(loaded, ckpt);
    // The per-layer shapes are recorded in config.json's documented `ziplm` block.
    const json = JSON.parse(await readFile(join(dir, CONFIG_FILE), 'utf8'));
    expect(json.ziplm).toEqual({ format: 1, layer_heads: [4, 0, 2, 3], layer_intermediate_sizes: [24, 11, 0, 5] });
    expect(json.architectures).toEqual(['BertForSequenceClassification']);
    const header = await readSafetensorsHeader(join(dir, WEIGHTS_FILE));
    expect(header.metadata).toEqual({ format: 'pt' });
    const a = createModel(ckpt);
    const b = createModel(loaded);
    const inputIds = ints([[2, 5, 9, 3]]);
    const oa = a.forward({ inputIds });
    const ob = b.forward({ inputIds });
    expect(ob.logits.arraySync()).toEqual(oa.logits.arraySync());
    disposeAll(oa, ob, inputIds);
    a.dispose();
    b.dispose();
  });

  it('round-trips GPT2 and span-QA BERT, and overwrites an existing checkpoint atomically', async () => {
    const dir = await fresh();
    for (const ckpt of [
      randomCheckpoint(tinyGpt2Config(), { seed: 2, std: 0.3, biasStd: 0.1 }),
      randomCheckpoint(tinyBertConfig({ type: 'span-qa' }), { seed: 3, std: 0.3 }),
    ]) {
      await saveCheckpoint(dir, ckpt);
      expectSameCheckpoint(await loadCheckpoint(dir), ckpt);
    }
    expect((await readdir(dir)).sort()).toEqual([CONFIG_FILE, WEIGHTS_FILE]);
  });

  it('writes the tokenizer files and loadModelDir loads all three', async () => {
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'movie', 'was', 'great', '##ly', '!'];
    const tokenizer = new WordPieceTokenizer({ vocab });
    const ckpt = randomCheckpoint(bertConfig({ ...tinyBertConfig(), vocabSize: 40 }), { seed: 4 });
    const dir = await fresh();
    const written = await saveCheckpoint(dir, ckpt, { tokenizer });
    expect(written).toContain('vocab.txt');
    const { checkpoint, tokenizer: back } = await loadModelDir(dir);
    expectSameCheckpoint(checkpoint, ckpt);
    expect(back.encode('The movie was great!').ids).toEqual(tokenizer.encode('The movie was great!').ids);
  });

  it('F16 storage loads back to the rounded values', async () => {
    const ckpt = randomCheckpoint(tinyGpt2Config(), { seed: 5, std: 0.3 });
    const dir = await fresh();
    await saveCheckpoint(dir, ckpt, { dtype: 'F16' });
    const loaded = await loadCheckpoint(dir);
    for (const [name, t] of ckpt.weights) {
      const back = loaded.weights.get(name)!.data;
      for (let i = 0; i < t.data.length; i++)
        expect(Math.abs(back[i]! - t.data[i]!)).toBeLessThanOrEqual(Math.abs(t.data[i]!) * 2 ** -11 + 2 ** -25);
    }
  });

  it('refuses to save weights that do not match the config, leaving the old files alone', async () => {
    const ckpt = randomCheckpoint(tinyGpt2Config(), { seed: 6 });
    const dir = await fresh();
    await saveCheckpoint(dir, ckpt);
    const before = await readFile(join(dir, WEIGHTS_FILE));
    const weights = new Map(ckpt.weights);
    weights.delete('transformer.ln_f.bias');
    await expect(saveCheckpoint(dir, { config: ckpt.config, weights })).rejects.toThrow(
      /model\.safetensors: missing 1 tensor\(s\) required by the config: "transformer\.ln_f\.bias"/,
    );
    weights.set('transformer.ln_f.bias', ckpt.weights.get('transformer.ln_f.bias')!);
    weights.set('extra', { shape: [1], data: new Float32Array(1) });
    await expect(saveCheckpoint(dir, { config: ckpt.config, weights })).rejects.toThrow(
      /1 tensor\(s\) are not part of the config: "extra"/,
    );
    expect(await readFile(join(dir, WEIGHTS_FILE))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual([CONFIG_FILE, WEIGHTS_FILE]);
  });
});

describe('loading Hugging Face checkpoints', () => {
  it('accepts bare BertModel names, gamma/beta, buffers and pre-training heads', async () => {
    const config = bertConfig({ vocabSize: 30, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16, maxPositions: 10 });
    const ckpt = randomCheckpoint(config, { seed: 7, std: 0.5 });
    const stored: Array<[string, Tensor32]> = [];
    for (const [name, t] of ckpt.weights)
      stored.push([
        name
          .replace(/^bert\./, '')
          .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
          .replace(/LayerNorm\.bias$/, 'LayerNorm.beta'),
        t,
      ]);
    stored.push(['cls.predictions.bias', { shape: [30], data: new Float32Array(30) }]);
    const dir = await fresh();
    await writeRaw(dir, toHfConfig(config), stored);
    // An int64 position_ids buffer (as in many BERT checkpoints) must be skipped, not rejected.
    const file = join(dir, WEIGHTS_FILE);
    const bytes = encodeSafetensors(stored);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const dataLength = bytes.length - 8 - n;
    header['embeddings.position_ids'] = { dtype: 'I64', shape: [1, 10], data_offsets: [dataLength, dataLength + 80] };
    const json = new TextEncoder().encode(JSON.stringify(header));
    const out = new Uint8Array(8 + json.length + dataLength + 80);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(bytes.subarray(8 + n), 8 + json.length);
    await writeFile(file, out);
    expectSameCheckpoint(await loadCheckpoint(dir), ckpt);
  });

  it('accepts GPT2Model names with attn.bias buffers and a stored lm_head', async () => {
    const config = gpt2Config({ vocabSize: 20, hiddenSize: 8, numLayers: 2, numHeads: 2, maxPositions: 6, bosTokenId: 19, eosTokenId: 19 });
    const ckpt = randomCheckpoint(config, { seed: 8, std: 0.5 });
    const stored: Array<[string, Tensor32]> = [...ckpt.weights].map(([name, t]) => [name.replace(/^transformer\./, ''), t]);
    stored.push(['h.0.attn.bias', { shape: [1, 1, 6, 6], data: new Float32Array(36) }]);
    stored.push(['h.0.attn.masked_bias', { shape: [], data: new Float32Array([-1e4]) }]);
    stored.push(['lm_head.weight', ckpt.weights.get('transformer.wte.weight')!]);
    const dir = await fresh();
    await writeRaw(dir, { ...toHfConfig(config), architectures: ['GPT2Model'] }, stored);
    expectSameCheckpoint(await loadCheckpoint(dir), ckpt);
  });
});

describe('bad checkpoints give typed errors naming the file and the problem', () => {
  const config = bertConfig({ vocabSize: 30, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16, maxPositions: 10 });
  const ckpt = randomCheckpoint(config, { seed: 9 });

  it('missing tensors', async () => {
    const dir = await fresh();
    const weights = new Map(ckpt.weights);
    weights.delete('bert.encoder.layer.1.output.dense.weight');
    weights.delete('bert.embeddings.LayerNorm.bias');
    await writeRaw(dir, toHfConfig(config), weights);
    const error = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(join(dir, WEIGHTS_FILE));
    expect((error as Error).message).toMatch(
      /missing 2 tensor\(s\) required by config\.json: "bert\.embeddings\.LayerNorm\.bias", "bert\.encoder\.layer\.1\.output\.dense\.weight"/,
    );
  });

  it('a shape that does not match config.json', async () => {
    const dir = await fresh();
    await writeRaw(dir, { ...toHfConfig(config), intermediate_size: 12 }, ckpt.weights);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      /model\.safetensors: tensor "bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[16, 8\] but config\.json implies \[12, 8\]/,
    );
  });

  it('dense weights under a pruned config (a removed module that still has weights)', async () => {
    const dir = await fresh();
    const pruned = { ...toHfConfig(config), ziplm: { format: 1, layer_heads: [2, 0], layer_intermediate_sizes: [16, 16] } };
    await writeRaw(dir, pruned, ckpt.weights);
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      /10 layer tensor\(s\) are not expected by config\.json .*"bert\.encoder\.layer\.1\.attention\.self\.query\.weight"/,
    );
  });

  it('two stored names for one parameter', async () => {
    const dir = await fresh();
    const stored: Array<[string, Tensor32]> = [...ckpt.weights];
    stored.push(['embeddings.word_embeddings.weight', ckpt.weights.get('bert.embeddings.word_embeddings.weight')!]);
    await writeRaw(dir, toHfConfig(config), stored);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/both map to "bert\.embeddings\.word_embeddings\.weight"/);
  });

  it('a truncated model.safetensors', async () => {
    const dir = await fresh();
    await writeRaw(dir, toHfConfig(config), ckpt.weights);
    const bytes = await readFile(join(dir, WEIGHTS_FILE));
    await writeFile(join(dir, WEIGHTS_FILE), bytes.subarray(0, bytes.length - 100));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: tensor ".*": data_offsets .* are out of range/);
  });

  it('a missing model.safetensors', async () => {
    const dir = await fresh();
    await writeFile(join(dir, CONFIG_FILE), JSON.stringify(toHfConfig(config)));
    await expect(loadCheckpoint(dir)).rejects.toThrow(WeightsError);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/model\.safetensors: file not found/);
  });

  it('config.json missing, not JSON, or invalid', async () => {
    const dir = await fresh();
    const file = join(dir, CONFIG_FILE);
    await expect(loadCheckpoint(dir)).rejects.toThrow(ConfigError);
    await expect(readConfigFile(file)).rejects.toThrow(/config\.json: .*file not found/);
    await writeFile(file, '{"model_type": "bert",');
    await expect(loadCheckpoint(dir)).rejects.toThrow(/config\.json: config field "\(root\)" is not valid JSON/);
    await writeFile(file, JSON.stringify({ ...toHfConfig(config), num_attention_heads: 3 }));
    const error = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).file).toBe(file);
    expect((error as ConfigError).field).toBe('num_attention_heads');
  });

  it('a missing vocabulary', async () => {
    const dir = await fresh();
    await saveCheckpoint(dir, ckpt);
    await expect(loadModelDir(dir)).rejects.toThrow(VocabularyError);
    await expect(loadModelDir(dir)).rejects.toThrow(/vocab\.txt: missing/);
  });

  it('a vocabulary larger than the embedding', async () => {
    const dir = await fresh();
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...Array.from({ length: 40 }, (_, i) => `w${i}`)];
    await saveCheckpoint(dir, ckpt, { tokenizer: new WordPieceTokenizer({ vocab }) });
    await expect(loadModelDir(dir)).rejects.toThrow(/the tokenizer has 45 tokens but config\.json vocab_size is 30/);
  });

  it('checkCheckpoint reports a wrong element count', () => {
    const cls = bertConfig({ ...config, head: { type: 'classification', labels: ['x', 'y'] } });
    const c = randomCheckpoint(cls);
    const w = new Map(c.weights);
    w.set('bert.pooler.dense.bias', { shape: [8], data: new Float32Array(7) });
    expect(() => checkCheckpoint({ config: cls, weights: w }, 'mem')).toThrow(
      /mem: tensor "bert\.pooler\.dense\.bias" must hold 8 float32 values, has 7/,
    );
  });
});
