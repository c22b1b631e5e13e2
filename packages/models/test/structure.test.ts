// The prunable structure of BERT and GPT2: which modules exist, their output projections in the
// solver's layout (GPT2's Conv1D transposed), and the per-layer parameter count of the paper's Table 6.
import { describe, expect, it } from 'vitest';
import { bertConfig, gpt2Config, headDim, withLayerShapes, type ModelConfig } from '../src/config.js';
import {
  layerParameterCount,
  MODULE_KINDS,
  outputProjection,
  outputProjectionTensor,
  prunableModules,
  structureWidth,
} from '../src/structure.js';
import { randomCheckpoint } from '../src/random.js';
import { expectedShapes } from '../src/weights.js';

const bert = withLayerShapes(
  bertConfig({
    vocabSize: 30,
    hiddenSize: 16,
    numLayers: 3,
    numHeads: 4,
    intermediateSize: 32,
    maxPositions: 16,
    head: { type: 'classification', labels: ['a', 'b'] },
  }),
  [4, 0, 2],
  [32, 5, 0],
);
const gpt2 = withLayerShapes(
  gpt2Config({
    vocabSize: 30,
    hiddenSize: 16,
    numLayers: 3,
    numHeads: 4,
    intermediateSize: 32,
    maxPositions: 16,
    bosTokenId: 29,
    eosTokenId: 29,
  }),
  [1, 4, 0],
  [0, 7, 32],
);

/** The count the pipeline used before it moved here: parameters whose name is inside a transformer layer. */
function layerParametersByName(config: ModelConfig): number {
  let n = 0;
  for (const [name, shape] of expectedShapes(config)) {
    if (name.includes('.encoder.layer.') || name.startsWith('transformer.h.')) n += shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

describe('prunableModules', () => {
  it('lists the modules that still exist, in layer order, attention first', () => {
    expect(MODULE_KINDS).toEqual(['attention', 'ffn']);
    expect(prunableModules(bert).map((m) => [m.layer, m.module, m.size, m.width])).toEqual([
      [0, 'attention', 4, 16],
      [0, 'ffn', 32, 32],
      [1, 'ffn', 5, 5],
      [2, 'attention', 2, 8],
    ]);
    expect(prunableModules(gpt2).map((m) => `${m.layer}:${m.module}:${m.size}`)).toEqual([
      '0:attention:1',
      '1:attention:4',
      '1:ffn:7',
      '2:ffn:32',
    ]);
    expect(structureWidth(bert, 'attention')).toBe(headDim(bert));
    expect(structureWidth(gpt2, 'ffn')).toBe(1);
  });
});

describe('layerParameterCount', () => {
  it('counts the parameters inside the transformer layers (embeddings, norms outside layers and heads excluded)', () => {
    for (const config of [bert, gpt2, bertConfig(), gpt2Config()]) expect(layerParameterCount(config)).toBe(layerParametersByName(config));
    // BERT-base: 12 layers of 4·(768² + 768) + 2·768·3072 + 3072 + 768 + 2·2·768 = 7,087,872 parameters.
    expect(layerParameterCount(bertConfig())).toBe(12 * 7_087_872);
  });
});

describe('outputProjection', () => {
  for (const config of [bert, gpt2]) {
    it(`gives ${config.modelType}'s output projections in the solver's layout, and outputProjectionTensor inverts it`, () => {
      const checkpoint = randomCheckpoint(config, { seed: 3, biasStd: 0.1 });
      for (const m of prunableModules(config)) {
        const p = outputProjection(checkpoint, m.layer, m.module);
        expect([p.rows, p.cols]).toEqual([config.hiddenSize, m.width]);
        const stored = checkpoint.weights.get(`${p.name}.weight`)!;
        expect(checkpoint.weights.get(`${p.name}.bias`)!.data).toBe(p.bias);
        // Element (row = output o, column = input i) of the solver's matrix, against the stored layout.
        const at = (o: number, i: number) => (config.modelType === 'bert' ? stored.data[o * p.cols + i] : stored.data[i * p.rows + o]);
        for (const [o, i] of [
          [0, 0],
          [p.rows - 1, 0],
          [1, p.cols - 1],
          [p.rows - 1, p.cols - 1],
        ] as const)
          expect(p.weight[o * p.cols + i]).toBe(at(o, i));
        const back = outputProjectionTensor(config, p.weight, p.rows, p.cols);
        expect(back.shape).toEqual(stored.shape);
        expect(back.data).toEqual(stored.data);
      }
    });
  }

  it('names the missing tensor of a checkpoint that lacks it', () => {
    const checkpoint = randomCheckpoint(bert);
    const weights = new Map(checkpoint.weights);
    weights.delete('bert.encoder.layer.0.output.dense.weight');
    expect(() => outputProjection({ config: bert, weights }, 0, 'ffn')).toThrow(/bert\.encoder\.layer\.0\.output\.dense\.weight/);
  });
});
