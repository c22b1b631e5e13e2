// Generation in transformers.js (issue 16, "Out, loadable by the user's code"): a pruned decoder written by
// `saveTransformersJsModel` has Optimum's decoder-with-past graph as onnx/model.onnx, and transformers.js'
// `generate()` (prompt with an empty cache, then one token at a time with the cache) gives exactly the greedy
// continuation ziplm computes by recomputing the whole sequence with its full graph. Pruned members include a
// layer whose attention is removed (no cache entry for it) and, for LLaMA, a layer that keeps one key/value
// group of several. The with-past graph driven directly (prefill, then single tokens) reproduces the full
// graph's logits, and passes the ONNX checker (scripts/onnx-check.py, skipped without python3-onnx).

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, Tensor as TjsTensor } from '@huggingface/transformers';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff, pythonWithOnnx, releasedAfterAll } from '@ziplm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { localTransformersJs } from './transformers-js-local.js';
import type { ModelConfig } from '../src/config.js';
import { gpt2Config, headDim, headsPerGroup, llamaConfig } from '../src/config.js';
import { builtinModelDir, loadModelDir, saveTransformersJsModel } from '../src/io/index.js';
import { exportModelToOnnx, OnnxExportError } from '../src/onnx/index.js';
import { ONNX_NAMES, OPTIMUM_NAMES } from '../src/onnx/names.js';
import { randomCheckpoint } from '../src/random.js';
import { shrinkWeights, type KeptStructures } from '../src/shrink.js';
import type { Tokenizer } from '../src/tokenizers/index.js';
import type { Checkpoint } from '../src/weights.js';
import { hfFixture, readDecoderReference } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const NEW_TOKENS = 8;
const ort = await loadOrt();
type OrtTensor = InstanceType<typeof ort.Tensor>;
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));
const checkScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'onnx-check.py');

const modelsRoot = localTransformersJs('ziplm-transformers-js-generate-');
let builtinTokenizer: Tokenizer;
beforeAll(async () => {
  // Random models borrow the built-in GPT2's tokenizer: saveTransformersJsModel writes one, generate() needs none.
  builtinTokenizer = (await loadModelDir(builtinModelDir('tiny-gpt2'))).tokenizer;
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Layer 0 keeps every other head (in whole key/value groups), layer 1 loses its attention, the last layer
 * keeps only its first key/value group (LLaMA: one group of several query heads); every FFN keeps 3 of 4 neurons.
 */
function pruning(config: ModelConfig): KeptStructures {
  const group = headsPerGroup(config);
  const last = config.numLayers - 1;
  const heads = config.layerHeads.map((n, l) =>
    l === 1 ? [] : l === last && l > 1 ? range(group) : range(n).filter((i) => Math.floor(i / group) % 2 === 0),
  );
  return { heads, neurons: config.layerIntermediate.map((n) => range(n).filter((i) => i % 4 !== 3)) };
}

function randomGpt2(): Checkpoint {
  const config = gpt2Config({
    vocabSize: builtinTokenizer.vocabSize,
    hiddenSize: 32,
    numHeads: 4,
    numLayers: 3,
    intermediateSize: 48,
    maxPositions: 64,
    bosTokenId: 0,
    eosTokenId: 0,
  });
  return shrinkWeights(randomCheckpoint(config, { seed: 7, std: 0.3, biasStd: 0.1 }), pruning(config));
}

function randomLlama(): Checkpoint {
  const config = llamaConfig({
    vocabSize: builtinTokenizer.vocabSize,
    hiddenSize: 48,
    numHeads: 6,
    numKeyValueHeads: 3,
    numLayers: 3,
    intermediateSize: 40,
    maxPositions: 64,
    ropeTheta: 10_000,
    bosTokenId: 0,
    eosTokenId: 0,
  });
  return shrinkWeights(randomCheckpoint(config, { seed: 8, std: 0.3, biasStd: 0.1 }), pruning(config));
}

const int64 = (values: readonly number[]): BigInt64Array => BigInt64Array.from(values, BigInt);
const argmax = (row: Float32Array): number => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);

/** The logits [1, n, vocab] of one unpadded sequence by ziplm's full-sequence graph in onnxruntime. */
async function fullLogits(graph: Uint8Array, ids: readonly number[]): Promise<Float32Array> {
  const dims = [1, ids.length];
  const out = await (await session(graph)).run({
    [ONNX_NAMES.inputIds]: new ort.Tensor('int64', int64(ids), dims),
    [ONNX_NAMES.attentionMask]: new ort.Tensor('int64', int64(ids.map(() => 1)), dims),
  });
  return out[ONNX_NAMES.logits]!.data as Float32Array;
}

/** ziplm's greedy continuation: recompute the whole sequence with the full graph, argmax of the last position. */
async function greedyContinuation(graph: Uint8Array, vocab: number, prompt: readonly number[], steps: number): Promise<number[]> {
  const ids = [...prompt];
  for (let step = 0; step < steps; step++) {
    const logits = await fullLogits(graph, ids);
    ids.push(argmax(logits.subarray((ids.length - 1) * vocab, ids.length * vocab)));
  }
  return ids.slice(prompt.length);
}

/**
 * Writes `checkpoint` as `modelsRoot()/name`, generates NEW_TOKENS greedy tokens for `prompts` as one left-padded
 * batch in transformers.js, and expects each row to be ziplm's greedy continuation of its prompt alone
 * (positions come from `position_ids`, so the padding must not change them). transformers.js stops when
 * every row has produced the end-of-sequence token, and keeps generating for finished rows until then.
 */
async function expectGreedyGeneration(
  name: string,
  checkpoint: Checkpoint,
  tokenizer: Tokenizer,
  prompts: readonly (readonly number[])[],
): Promise<void> {
  const { config } = checkpoint;
  if (config.modelType === 'bert') throw new Error(`${name}: generation needs a decoder`);
  await saveTransformersJsModel(join(modelsRoot(), name), checkpoint, tokenizer);
  const full = exportModelToOnnx(checkpoint);
  const expected = await Promise.all(prompts.map((p) => greedyContinuation(full, config.vocabSize, p, NEW_TOKENS)));
  const eos = new Set(config.modelType === 'llama' && config.eosTokenIds ? config.eosTokenIds : [config.eosTokenId]);
  const finishedAt = range(NEW_TOKENS).find((k) => expected.every((row) => row.slice(0, k + 1).some((id) => eos.has(id))));
  const generated = finishedAt === undefined ? NEW_TOKENS : finishedAt + 1;

  const width = Math.max(...prompts.map((p) => p.length));
  const pad = config.eosTokenId;
  const ids = prompts.flatMap((p) => [...new Array<number>(width - p.length).fill(pad), ...p]);
  const mask = prompts.flatMap((p) => [...new Array<number>(width - p.length).fill(0), ...p.map(() => 1)]);
  const model = await AutoModelForCausalLM.from_pretrained(name);
  const output = (await model.generate({
    input_ids: new TjsTensor('int64', int64(ids), [prompts.length, width]),
    attention_mask: new TjsTensor('int64', int64(mask), [prompts.length, width]),
    max_new_tokens: NEW_TOKENS,
    do_sample: false,
  })) as TjsTensor;
  await model.dispose();
  expect(output.dims).toEqual([prompts.length, width + generated]);
  const rows = Array.from(output.data as BigInt64Array, Number);
  prompts.forEach((_, b) => {
    const continuation = rows.slice(b * (width + generated) + width, (b + 1) * (width + generated));
    expect(continuation, `${name} row ${b}`).toEqual(expected[b]!.slice(0, generated));
  });
}

/**
 * Runs the Optimum with-past graph directly: the prompt with an empty cache (length 0), then `steps` single
 * tokens fed with the previous step's present outputs, and returns the largest difference of its logits
 * from the full graph's at the same positions. Every kept layer's cache has heads_l / headsPerGroup heads;
 * a layer whose attention is removed has none.
 */
async function withPastDifference(checkpoint: Checkpoint, prompt: readonly number[], steps: number): Promise<number> {
  const { config } = checkpoint;
  const vocab = config.vocabSize;
  const withPast = await session(exportModelToOnnx(checkpoint, { mode: 'decode', signature: 'optimum' }));
  const kept = range(config.numLayers).filter((l) => config.layerHeads[l]! > 0);
  expect(withPast.inputNames.filter((n) => n.startsWith('past_key_values.'))).toEqual(
    kept.flatMap((l) => [OPTIMUM_NAMES.pastKey(l), OPTIMUM_NAMES.pastValue(l)]),
  );
  let cache: Record<string, OrtTensor> = {};
  for (const l of kept) {
    const empty = (): OrtTensor =>
      new ort.Tensor('float32', new Float32Array(0), [1, config.layerHeads[l]! / headsPerGroup(config), 0, headDim(config)]);
    cache[OPTIMUM_NAMES.pastKey(l)] = empty();
    cache[OPTIMUM_NAMES.pastValue(l)] = empty();
  }
  const ids = [...prompt];
  let fed = 0;
  let difference = 0;
  for (let step = 0; step <= steps; step++) {
    const fresh = ids.slice(fed);
    const out = await withPast.run({
      [ONNX_NAMES.inputIds]: new ort.Tensor('int64', int64(fresh), [1, fresh.length]),
      [ONNX_NAMES.attentionMask]: new ort.Tensor('int64', int64(ids.map(() => 1)), [1, ids.length]),
      [OPTIMUM_NAMES.positionIds]: new ort.Tensor('int64', int64(fresh.map((_, i) => fed + i)), [1, fresh.length]),
      ...cache,
    });
    const logits = out[ONNX_NAMES.logits]!.data as Float32Array;
    const reference = (await fullLogits(exportModelToOnnx(checkpoint), ids)).subarray(fed * vocab);
    difference = Math.max(difference, maxAbsDiff(logits, reference));
    cache = {};
    for (const l of kept) {
      expect(out[OPTIMUM_NAMES.presentKey(l)]!.dims).toEqual([
        1,
        config.layerHeads[l]! / headsPerGroup(config),
        ids.length,
        headDim(config),
      ]);
      cache[OPTIMUM_NAMES.pastKey(l)] = out[OPTIMUM_NAMES.presentKey(l)]!;
      cache[OPTIMUM_NAMES.pastValue(l)] = out[OPTIMUM_NAMES.presentValue(l)]!;
    }
    fed = ids.length;
    ids.push(argmax(logits.subarray((fresh.length - 1) * vocab)));
  }
  return difference;
}

const PROMPTS = [
  [11, 42, 7, 99, 3],
  [5, 260, 31],
];

describe('pruned random decoders: transformers.js generate() on the with-past graph', () => {
  it.each([
    ['GPT2', randomGpt2],
    ['LLaMA', randomLlama],
  ] as const)('%s: the with-past graph reproduces the full graph, and generate() is ziplm greedy', async (family, make) => {
    const checkpoint = make();
    expect(checkpoint.config.layerHeads[1]).toBe(0);
    if (family === 'LLaMA') expect(checkpoint.config.layerHeads[2]).toBe(headsPerGroup(checkpoint.config));
    const difference = await withPastDifference(checkpoint, PROMPTS[0]!, 3);
    expect(difference).toBeLessThanOrEqual(TOLERANCE);
    console.info(`with-past vs full graph, pruned random ${family}: max |Δlogit| = ${difference.toExponential(2)}`);
    await expectGreedyGeneration(`random-${family}`, checkpoint, builtinTokenizer, PROMPTS);
  });

  it('INT8: onnx/model_quantized.onnx is the INT8 with-past graph; transformers.js loads it by default and generates', async () => {
    const checkpoint = randomLlama();
    const quantize = { activations: 'dynamic' } as const;
    await saveTransformersJsModel(join(modelsRoot(), 'random-llama-int8'), checkpoint, builtinTokenizer, { quantize });
    const model = await AutoModelForCausalLM.from_pretrained('random-llama-int8');
    const prompt = PROMPTS[0]!;
    const dims = [1, prompt.length];
    // The prompt step equals ziplm's INT8 full graph (the same dynamic activation scales over the same tokens).
    const { logits } = (await model({
      input_ids: new TjsTensor('int64', int64(prompt), dims),
      attention_mask: new TjsTensor('int64', int64(prompt.map(() => 1)), dims),
    })) as { logits: TjsTensor };
    const int8Full = await fullLogits(exportModelToOnnx(checkpoint, { quantize }), prompt);
    expect(maxAbsDiff(logits.data as Float32Array, int8Full)).toBeLessThanOrEqual(TOLERANCE);
    const output = (await model.generate({
      input_ids: new TjsTensor('int64', int64(prompt), dims),
      attention_mask: new TjsTensor('int64', int64(prompt.map(() => 1)), dims),
      max_new_tokens: NEW_TOKENS,
      do_sample: false,
      // Past a possible end-of-sequence token: every step after the first feeds the cache back.
      min_new_tokens: NEW_TOKENS,
    })) as TjsTensor;
    expect(output.dims).toEqual([1, prompt.length + NEW_TOKENS]);
    await model.dispose();
  });
});

describe('the signature option', () => {
  it("leaves ziplm's decode graph as it was, and is refused without mode 'decode'", () => {
    const checkpoint = randomGpt2();
    expect(exportModelToOnnx(checkpoint, { mode: 'decode', signature: 'ziplm' })).toEqual(
      exportModelToOnnx(checkpoint, { mode: 'decode' }),
    );
    expect(() => exportModelToOnnx(checkpoint, { signature: 'optimum' })).toThrow(OnnxExportError);
    expect(() => exportModelToOnnx(checkpoint, { signature: 'optimum' })).toThrow(/needs mode "decode"/);
  });
});

describe('pruned Hugging Face fixtures: transformers.js generate() is ziplm greedy', () => {
  for (const name of ['gpt2-tiny-lm', 'llama-tiny-lm'] as const) {
    const fixture = hfFixture(name);
    it.skipIf(fixture.skip !== undefined)(`${name}${fixture.skip ? ` (${fixture.skip})` : ''}`, async () => {
      const model = await loadModelDir(fixture.dir);
      const pruned = shrinkWeights(model.checkpoint, pruning(model.checkpoint.config));
      expect(pruned.config.layerHeads[1]).toBe(0);
      const reference = readDecoderReference(fixture.dir);
      const prompts = reference.inputIds.map((row, b) => row.filter((_, i) => reference.attentionMask[b]![i] === 1));
      const difference = await withPastDifference(pruned, prompts[0]!, 3);
      expect(difference).toBeLessThanOrEqual(TOLERANCE);
      console.info(`with-past vs full graph, pruned ${name}: max |Δlogit| = ${difference.toExponential(2)}`);
      await expectGreedyGeneration(`${name}-pruned`, pruned, model.tokenizer, prompts);
    });
  }
});

describe('onnx.checker (scripts/onnx-check.py)', () => {
  const python = pythonWithOnnx();
  it.skipIf(!python)('accepts the with-past graphs, FP32 and INT8', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ziplm-with-past-check-'));
    try {
      const files: Record<string, Uint8Array> = {};
      for (const [family, checkpoint] of [
        ['gpt2', randomGpt2()],
        ['llama', randomLlama()],
      ] as const) {
        files[`${family}-with-past.onnx`] = exportModelToOnnx(checkpoint, { mode: 'decode', signature: 'optimum' });
        files[`${family}-with-past-int8.onnx`] = exportModelToOnnx(checkpoint, {
          mode: 'decode',
          signature: 'optimum',
          quantize: { activations: 'dynamic' },
        });
      }
      for (const [file, bytes] of Object.entries(files)) await writeFile(join(dir, file), bytes);
      const r = spawnSync(python!, [checkScript, ...Object.keys(files).map((f) => join(dir, f))], { encoding: 'utf8' });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(Object.keys(files).length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(python)('skipped: no python3 with the onnx package (apt-get install python3-onnx, or set ZIPLM_PYTHON)', () => {});
});
