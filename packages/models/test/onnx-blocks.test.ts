// Single-block exports: they must be the very subgraphs of the whole-model export (the latency
// table times them to predict whole-model latency, guide/latency.md).

import { decodeModel, type Graph } from '@ziplm/onnx';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { int64Tensor, maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/config.js';
import { bertConfig, gpt2Config } from '../src/config.js';
import { exportAttentionBlock, exportFfnBlock, exportLayerBlock, exportModelToOnnx, OnnxExportError } from '../src/onnx/index.js';
import { createRng, randomCheckpoint } from '../src/random.js';
import type { Checkpoint } from '../src/weights.js';

const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes, { threads: 1 }));
const int64 = (rows: number[][]): OrtTensor => int64Tensor<OrtTensor>(ort, rows);

const bert = bertConfig({
  vocabSize: 30,
  hiddenSize: 16,
  numHeads: 4,
  numLayers: 3,
  intermediateSize: 24,
  layerHeads: [4, 0, 2],
  layerIntermediate: [24, 10, 0],
  maxPositions: 12,
  head: { type: 'span-qa' },
});
const gpt2 = gpt2Config({
  vocabSize: 23,
  hiddenSize: 16,
  numHeads: 4,
  numLayers: 3,
  intermediateSize: 32,
  layerHeads: [3, 0, 4],
  layerIntermediate: [20, 32, 0],
  maxPositions: 12,
  bosTokenId: 0,
  eosTokenId: 0,
});
const ids = [
  [5, 1, 22, 7, 7, 14],
  [3, 9, 2, 18, 0, 0],
];
const mask = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
];

/** Runs the whole model with hidden states, then each layer as its blocks, and compares. */
async function chainBlocks(checkpoint: Checkpoint): Promise<number> {
  const config = checkpoint.config;
  const model = await session(exportModelToOnnx(checkpoint, { hiddenStates: true }));
  const feeds: Record<string, OrtTensor> = { input_ids: int64(ids), attention_mask: int64(mask) };
  if (config.modelType === 'bert') feeds.token_type_ids = int64(ids.map((r) => r.map(() => 0)));
  const whole = await model.run(feeds);
  let worst = 0;
  for (let l = 0; l < config.numLayers; l++) {
    let h = whole[`hidden_state_${l}`]!;
    if (config.layerHeads[l]! > 0) {
      const block = await session(exportLayerBlock(checkpoint, l, 'attention'));
      h = (await block.run({ hidden_states: h, attention_mask: int64(mask) })).output!;
    }
    if (config.layerIntermediate[l]! > 0) {
      const block = await session(exportLayerBlock(checkpoint, l, 'ffn'));
      h = (await block.run({ hidden_states: h })).output!;
    }
    worst = Math.max(worst, maxAbsDiff(h.data as Float32Array, whole[`hidden_state_${l + 1}`]!.data as Float32Array));
  }
  return worst;
}

describe('exportLayerBlock', () => {
  it('BERT: attention then FFN block of every layer reproduce the whole model layer by layer', async () => {
    const worst = await chainBlocks(randomCheckpoint(bert, { seed: 21, std: 0.3, biasStd: 0.2 }));
    expect(worst).toBeLessThan(1e-5);
  });

  it('GPT2: attention then FFN block of every layer reproduce the whole model layer by layer', async () => {
    const worst = await chainBlocks(randomCheckpoint(gpt2, { seed: 22, std: 0.3, biasStd: 0.2 }));
    expect(worst).toBeLessThan(1e-5);
  });

  it('GPT2 decode-mode attention block equals the full block on the new token', async () => {
    const checkpoint = randomCheckpoint(gpt2, { seed: 23, std: 0.3, biasStd: 0.2 });
    const rng = createRng(1);
    const [batch, seq, d] = [2, 5, 16];
    const x = Float32Array.from({ length: batch * seq * d }, () => rng.normal());
    const m = [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1],
    ];
    const full = await session(exportLayerBlock(checkpoint, 2, 'attention'));
    const want = (await full.run({ hidden_states: new ort.Tensor('float32', x, [batch, seq, d]), attention_mask: int64(m) })).output!
      .data as Float32Array;
    const decode = await session(exportLayerBlock(checkpoint, 2, 'attention', { mode: 'decode' }));
    const rows = (from: number, to: number) => {
      const out = new Float32Array(batch * (to - from) * d);
      for (let b = 0; b < batch; b++) out.set(x.subarray((b * seq + from) * d, (b * seq + to) * d), b * (to - from) * d);
      return new ort.Tensor('float32', out, [batch, to - from, d]);
    };
    const empty = new ort.Tensor('float32', new Float32Array(0), [batch, 4, 0, 4]);
    const prefill = await decode.run({
      hidden_states: rows(0, 4),
      attention_mask: int64(m.map((r) => r.slice(0, 4))),
      past_key: empty,
      past_value: empty,
    });
    const step = await decode.run({
      hidden_states: rows(4, 5),
      attention_mask: int64(m),
      past_key: prefill.present_key!,
      past_value: prefill.present_value!,
    });
    expect(step.present_key!.dims).toEqual([batch, 4, 5, 4]);
    const last = new Float32Array(batch * d);
    for (let b = 0; b < batch; b++) last.set(want.subarray((b * seq + 4) * d, (b * seq + 5) * d), b * d);
    expect(maxAbsDiff(step.output!.data as Float32Array, last)).toBeLessThan(1e-5);
  });

  it('rejects removed modules and bad layers', () => {
    const checkpoint = randomCheckpoint(bert, { seed: 1 });
    expect(() => exportLayerBlock(checkpoint, 1, 'attention')).toThrow(OnnxExportError);
    expect(() => exportLayerBlock(checkpoint, 1, 'attention')).toThrow(/attention module of layer 1 is removed/);
    expect(() => exportLayerBlock(checkpoint, 3, 'ffn')).toThrow(/layer must be in \[0, 3\)/);
  });
});

/** Op types and attributes of the nodes in one scope, in order (names stripped). */
function structure(graph: Graph, scope: RegExp): string[] {
  return graph.nodes
    .filter((n) => scope.test(n.name ?? ''))
    .map((n) => `${n.opType}(${n.inputs.length}) ${JSON.stringify(n.attributes ?? {})}`);
}

function initializerShapes(graph: Graph, scope: RegExp, prefixOf: (name: string) => string): string[] {
  return graph.initializers
    .filter((t) => scope.test(t.name ?? ''))
    .map((t) => `${prefixOf(t.name!)} [${t.dims.join(',')}]`)
    .sort();
}

describe('exportAttentionBlock / exportFfnBlock', () => {
  for (const base of [bert, gpt2] as ModelConfig[]) {
    it(`${base.modelType}: every head count and FFN size runs and is the whole model's layer subgraph`, async () => {
      const rng = createRng(7);
      const [batch, seq, d] = [2, 3, base.hiddenSize];
      const hidden = new ort.Tensor(
        'float32',
        Float32Array.from({ length: batch * seq * d }, () => rng.normal()),
        [batch, seq, d],
      );
      const m = int64([
        [1, 1, 1],
        [1, 1, 0],
      ]);
      // A model whose layer k−1 has k heads: its layer subgraphs are the references.
      const heads = Array.from({ length: base.numHeads }, (_, i) => i + 1);
      const sizes = Array.from({ length: base.intermediateSize }, (_, i) => i + 1);
      const layers = Math.max(heads.length, sizes.length);
      const wide = {
        ...base,
        numLayers: layers,
        layerHeads: Array.from({ length: layers }, (_, l) => heads[l % heads.length]!),
        layerIntermediate: Array.from({ length: layers }, (_, l) => sizes[l]!),
      } as ModelConfig;
      const whole = decodeModel(exportModelToOnnx(randomCheckpoint(wide, { seed: 1 }))).graph;
      const layerPrefix = /^(bert\.encoder\.layer|transformer\.h)\.\d+\./;
      const strip = (n: string) => n.replace(layerPrefix, 'L.');
      for (const k of heads) {
        const bytes = exportAttentionBlock(base, k, { seed: k });
        const block = decodeModel(bytes).graph;
        expect(structure(block, /^layer\.0\.attention\//).length).toBeGreaterThan(15);
        expect(structure(block, /^layer\.0\.attention\//)).toEqual(structure(whole, new RegExp(`^layer\\.${k - 1}\\.attention/`)));
        expect(initializerShapes(block, layerPrefix, strip)).toEqual(
          initializerShapes(whole, new RegExp(`^(bert\\.encoder\\.layer|transformer\\.h)\\.${k - 1}\\.(attention|attn|ln_1)`), strip),
        );
        const out = await (await session(bytes)).run({ hidden_states: hidden, attention_mask: m });
        expect(out.output!.dims).toEqual([batch, seq, d]);
        expect((out.output!.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
      for (const n of sizes) {
        const bytes = exportFfnBlock(base, n, { seed: n });
        const block = decodeModel(bytes).graph;
        expect(structure(block, /^layer\.0\.ffn\//).length).toBeGreaterThan(8);
        expect(structure(block, /^layer\.0\.ffn\//)).toEqual(structure(whole, new RegExp(`^layer\\.${n - 1}\\.ffn/`)));
        expect(initializerShapes(block, layerPrefix, strip)).toEqual(
          initializerShapes(
            whole,
            new RegExp(`^(bert\\.encoder\\.layer|transformer\\.h)\\.${n - 1}\\.(intermediate|output|mlp|ln_2)`),
            strip,
          ),
        );
        const out = await (await session(bytes)).run({ hidden_states: hidden });
        expect(out.output!.dims).toEqual([batch, seq, d]);
        expect((out.output!.data as Float32Array).every(Number.isFinite)).toBe(true);
      }
    });
  }

  it('GPT2 decode attention block takes a fixed or symbolic cache', async () => {
    const bytes = exportAttentionBlock(gpt2, 2, { mode: 'decode', pastLength: 3 });
    const g = decodeModel(bytes).graph;
    expect(g.inputs.map((i) => [i.name, i.dims])).toEqual([
      ['hidden_states', ['batch', 'sequence', 16]],
      ['attention_mask', ['batch', 'total_sequence']],
      ['past_key', ['batch', 2, 3, 4]],
      ['past_value', ['batch', 2, 3, 4]],
    ]);
    expect(g.outputs.map((o) => o.name)).toEqual(['output', 'present_key', 'present_value']);
    const rng = createRng(3);
    const past = () =>
      new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * 2 * 3 * 4 }, () => rng.normal()),
        [2, 2, 3, 4],
      );
    const out = await (await session(bytes)).run({
      hidden_states: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 2 * 16 }, () => rng.normal()),
        [2, 1, 16],
      ),
      attention_mask: int64([
        [1, 1, 1, 1],
        [0, 1, 1, 1],
      ]),
      past_key: past(),
      past_value: past(),
    });
    expect(out.present_value!.dims).toEqual([2, 2, 4, 4]);
    expect((out.output!.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('rejects sizes outside the model', () => {
    expect(() => exportAttentionBlock(bert, 0)).toThrow(/heads must be an integer in \[1, 4\], got 0/);
    expect(() => exportAttentionBlock(bert, 5)).toThrow(OnnxExportError);
    expect(() => exportFfnBlock(gpt2, 0)).toThrow(/neurons must be a positive integer/);
    expect(() => exportFfnBlock(bert, 3, { mode: 'decode' })).toThrow(/is for GPT2/);
  });
});
