// The LLaMA family (issue 16): the tfjs model and the ONNX export reproduce the real Hugging Face fixture
// llama-tiny-lm (grouped-query attention, 4 query heads over 2 key/value heads, untied LM head, RoPE from
// transformers 5's rope_parameters) ≤ 1e-4, decode mode with a KV cache equals full mode, the single-block
// exports compose to the whole model, and the tokenizer reproduces the fixture's input ids.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LlamaConfig } from '../src/config.js';
import { headDim, headsPerGroup } from '../src/config.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { OnnxExportError, exportAttentionBlock, exportFfnBlock, exportLayerBlock, exportModelToOnnx } from '../src/onnx/index.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { LlamaModel, createModel, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint } from '../src/weights.js';
import { hfFixture, readDecoderReference } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const fixture = hfFixture('llama-tiny-lm');
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));
const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);
const float32 = (data: Float32Array, dims: number[]): OrtTensor => new ort.Tensor('float32', data, dims);

/** `torch.hidden_states[i]` of reference.json (entry numLayers has the final norm applied, as Hugging Face returns it). */
function referenceHiddenStates(dir: string): Float32Array[] {
  const json = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as { torch: { hidden_states: Array<{ data: string }> } };
  return json.torch.hidden_states.map((t) => {
    const bytes = Buffer.from(t.data, 'base64');
    const data = new Float32Array(bytes.length / 4);
    new Uint8Array(data.buffer).set(bytes);
    return data;
  });
}

/** Max |a − b| over the positions the attention mask keeps (rows of `width` values, one per token). */
function maxDiffAtTokens(a: ArrayLike<number>, b: ArrayLike<number>, mask: number[][], width: number): number {
  const flat = mask.flat();
  let max = 0;
  for (let i = 0; i < a.length; i++) if (flat[Math.floor(i / width)] === 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe.skipIf(fixture.skip !== undefined)('llama-tiny-lm fixture', () => {
  let checkpoint: Checkpoint<LlamaConfig>;
  let reference: ReturnType<typeof readDecoderReference>;
  let hidden: Float32Array[];
  beforeAll(async () => {
    await initBackend('wasm');
    const loaded = await loadCheckpoint(fixture.dir);
    if (loaded.config.modelType !== 'llama') throw new Error(`test: expected a llama checkpoint, got ${loaded.config.modelType}`);
    checkpoint = loaded as Checkpoint<LlamaConfig>;
    reference = readDecoderReference(fixture.dir);
    hidden = referenceHiddenStates(fixture.dir);
  });

  it('loads as grouped-query attention with an untied head and RoPE theta from rope_parameters', () => {
    const c = checkpoint.config;
    expect([c.numHeads, c.numKeyValueHeads, headsPerGroup(c), headDim(c), c.ropeTheta, c.tieWordEmbeddings]).toEqual([
      4,
      2,
      2,
      16,
      10000,
      undefined,
    ]);
    expect(checkpoint.weights.get('model.layers.0.self_attn.k_proj.weight')?.shape).toEqual([32, 64]);
  });

  it('tfjs: logits and hidden states match torch ≤ 1e-4, without leaking tensors', () => {
    const model = createModel(checkpoint);
    expect(model).toBeInstanceOf(LlamaModel);
    const before = tf.memory().numTensors;
    const inputIds = tf.tensor2d(reference.inputIds, undefined, 'int32');
    const attentionMask = tf.tensor2d(reference.attentionMask, undefined, 'int32');
    const out = model.forward({ inputIds, attentionMask });
    const mask = reference.attentionMask;
    expect(maxDiffAtTokens(out.logits.dataSync(), reference.logits.data, mask, checkpoint.config.vocabSize)).toBeLessThan(TOLERANCE);
    // Entry 0 = embeddings, entry i = layer i − 1's output; the last is the raw last layer (before model.norm), as for GPT2.
    const L = checkpoint.config.numLayers;
    expect(out.hiddenStates).toHaveLength(L + 1);
    for (let i = 0; i < L; i++) expect(maxDiffAtTokens(out.hiddenStates[i]!.dataSync(), hidden[i]!, mask, 64)).toBeLessThan(TOLERANCE);
    expect(maxDiffAtTokens(out.hiddenStates[L]!.dataSync(), reference.lastLayerOutput.data, mask, 64)).toBeLessThan(TOLERANCE);
    tf.dispose([out, inputIds, attentionMask]);
    expect(tf.memory().numTensors).toBe(before);
    // The weights come back unchanged, in Hugging Face's names and layouts.
    const back = model.toWeights();
    expect([...back.keys()]).toEqual([...checkpoint.weights.keys()]);
    for (const [name, t] of checkpoint.weights) expect(maxAbsDiff(back.get(name)!.data, t.data), name).toBe(0);
    model.dispose();
  });

  it('ONNX: logits, hidden states and calibration outputs match torch ≤ 1e-4', async () => {
    const s = await session(exportModelToOnnx(checkpoint, { hiddenStates: true, moduleInputs: true, matmulInputs: true }));
    const out = await s.run({ input_ids: int64(reference.inputIds), attention_mask: int64(reference.attentionMask) });
    const mask = reference.attentionMask;
    expect(maxDiffAtTokens(out.logits!.data as Float32Array, reference.logits.data, mask, checkpoint.config.vocabSize)).toBeLessThan(
      TOLERANCE,
    );
    expect(maxDiffAtTokens(out.hidden_state_0!.data as Float32Array, hidden[0]!, mask, 64)).toBeLessThan(TOLERANCE);
    expect(maxDiffAtTokens(out.hidden_state_1!.data as Float32Array, hidden[1]!, mask, 64)).toBeLessThan(TOLERANCE);
    expect(maxDiffAtTokens(out.hidden_state_2!.data as Float32Array, reference.lastLayerOutput.data, mask, 64)).toBeLessThan(TOLERANCE);
    // Attention context [.., heads·headDim], SwiGLU activations [.., neurons]; the o_proj / down_proj inputs are the same values.
    expect(out.attention_input_0!.dims).toEqual([3, 16, 64]);
    expect(out.ffn_input_1!.dims).toEqual([3, 16, 128]);
    expect(maxAbsDiff(out.matmul_input_1_fc2!.data, out.ffn_input_1!.data)).toBe(0);
    expect(out.matmul_input_0_qkv!.dims).toEqual([3, 16, 64]);
  });

  it('ONNX decode mode: a prompt then one token at a time with the KV cache equals full mode', async () => {
    const full = await session(exportModelToOnnx(checkpoint));
    const decode = await session(exportModelToOnnx(checkpoint, { mode: 'decode' }));
    const ids = [reference.inputIds[2]!];
    const seq = ids[0]!.length;
    const expected = (await full.run({ input_ids: int64(ids), attention_mask: int64([ids[0]!.map(() => 1)]) })).logits!
      .data as Float32Array;
    const vocab = checkpoint.config.vocabSize;
    const kvHeads = checkpoint.config.numKeyValueHeads;
    let past: Record<string, OrtTensor> = {};
    for (let l = 0; l < 2; l++) {
      past[`past_key_${l}`] = float32(new Float32Array(0), [1, kvHeads, 0, 16]);
      past[`past_value_${l}`] = float32(new Float32Array(0), [1, kvHeads, 0, 16]);
    }
    const prompt = 5;
    let done = 0;
    for (const step of [prompt, ...new Array<number>(seq - prompt).fill(1)]) {
      const out = await decode.run({
        input_ids: int64([ids[0]!.slice(done, done + step)]),
        attention_mask: int64([new Array<number>(done + step).fill(1)]),
        ...past,
      });
      expect(maxAbsDiff(out.logits!.data, expected.subarray(done * vocab, (done + step) * vocab))).toBeLessThan(TOLERANCE);
      expect(out.present_key_0!.dims).toEqual([1, kvHeads, done + step, 16]);
      past = {};
      for (let l = 0; l < 2; l++) {
        past[`past_key_${l}`] = out[`present_key_${l}`]!;
        past[`past_value_${l}`] = out[`present_value_${l}`]!;
      }
      done += step;
    }
  });

  it('ONNX blocks: attention then FFN of layer 0 maps hidden state 0 to hidden state 1', async () => {
    const attention = await session(exportLayerBlock(checkpoint, 0, 'attention'));
    const ffn = await session(exportLayerBlock(checkpoint, 0, 'ffn'));
    const dims = [3, 16, 64];
    const afterAttention = await attention.run({
      hidden_states: float32(hidden[0]!, dims),
      attention_mask: int64(reference.attentionMask),
    });
    const afterFfn = await ffn.run({ hidden_states: afterAttention.output! });
    expect(maxDiffAtTokens(afterFfn.output!.data as Float32Array, hidden[1]!, reference.attentionMask, 64)).toBeLessThan(TOLERANCE);
  });

  it('ONNX INT8 (dynamic) runs through the shared projection builder and stays close to fp32', async () => {
    const fp32 = await session(exportModelToOnnx(checkpoint));
    const int8 = await session(exportModelToOnnx(checkpoint, { quantize: { activations: 'dynamic' } }));
    const feeds = { input_ids: int64(reference.inputIds), attention_mask: int64(reference.attentionMask) };
    const a = (await fp32.run(feeds)).logits!.data as Float32Array;
    const b = (await int8.run(feeds)).logits!.data as Float32Array;
    // onnxruntime's own quantize_dynamic of this fixture is 0.99 off torch at worst (reference.json).
    expect(maxAbsDiff(a, b)).toBeLessThan(1.5);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0);
  });

  it('tokenizer: tokenizer.json with the <|begin_of_text|> template reproduces the input ids', async () => {
    const tokenizer = await loadTokenizer(fixture.dir, 'llama');
    const json = JSON.parse(readFileSync(join(fixture.dir, 'reference.json'), 'utf8')) as { sentences: string[] };
    json.sentences.forEach((sentence, i) => {
      const tokens = reference.attentionMask[i]!.reduce((a, b) => a + b, 0);
      expect(tokenizer.encode(sentence).ids).toEqual(reference.inputIds[i]!.slice(0, tokens));
    });
    // Padding is <|endoftext|> (tokenizer_config.json's pad and eos token), id 0 as in the fixture.
    expect(tokenizer.padId).toBe(reference.inputIds[0]![15]);
    // The beginning-of-sequence token counts against maxLength; a pair gets one before each sequence.
    expect(tokenizer.encode(json.sentences[2]!, undefined, { maxLength: 4 }).ids).toEqual(reference.inputIds[2]!.slice(0, 4));
    const pair = tokenizer.encode('Hello', 'world');
    expect(pair.ids.filter((id) => id === 2000)).toHaveLength(2);
    expect(pair.typeIds.at(-1)).toBe(1);
  });
});

describe('LLaMA block exports', () => {
  it('refuses an attention block that is not whole key/value groups', async () => {
    const { llamaConfig } = await import('../src/config.js');
    const config = llamaConfig({
      vocabSize: 10,
      hiddenSize: 32,
      numHeads: 4,
      numKeyValueHeads: 2,
      numLayers: 1,
      intermediateSize: 16,
      maxPositions: 8,
      bosTokenId: 0,
      eosTokenId: 1,
    });
    expect(() => exportAttentionBlock(config, 3)).toThrow(OnnxExportError);
    expect(() => exportAttentionBlock(config, 3)).toThrow(/multiple of the 2 query heads/);
    const s = await session(exportAttentionBlock(config, 2, { mode: 'decode' }));
    const out = await s.run({
      hidden_states: float32(new Float32Array(32).fill(0.5), [1, 1, 32]),
      attention_mask: int64([[1, 1, 1]]),
      past_key: float32(new Float32Array(2 * 8).fill(0.1), [1, 1, 2, 8]),
      past_value: float32(new Float32Array(2 * 8).fill(0.2), [1, 1, 2, 8]),
    });
    expect(out.present_key!.dims).toEqual([1, 1, 3, 8]);
    expect((await session(exportFfnBlock(config, 5))).outputNames).toEqual(['output']);
  });
});
