// ONNX in (issue 16): weights loaded from the fixtures' onnx/model.onnx (a TorchScript export set up as Optimum
// does, constant folding on, ../shared/fixtures/hf) equal their model.safetensors bit for bit for all four
// families, and the models built from them reproduce the torch logits ≤ 1e-4, in TensorFlow.js and as the ONNX graph
// ziplm exports from them (onnxruntime-node). A quantized export is refused naming the fp32 file; a graph missing a
// weight, a truncated file, a config/graph shape mismatch, a Linear whose module cannot be told and a tied head that
// is not the embedding are refused naming the file. `detectModelLayout` / `loadModelDir` tell the layouts apart.

import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Model } from '@ziplm/onnx';
import { decodeModel, encodeModel } from '@ziplm/onnx';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightsError } from '../src/errors.js';
import { detectModelLayout, loadCheckpoint, loadModelDir, loadOnnxCheckpoint, readConfigFile } from '../src/io/checkpoint.js';
import { checkpointFromOnnx } from '../src/io/onnx-checkpoint.js';
import type { PaddedBatch } from '../src/data/batching.js';
import { exportModelToOnnx, ONNX_NAMES, onnxFeeds } from '../src/onnx/index.js';
import { createModel, initBackend } from '../src/tfjs/index.js';
import type { Checkpoint } from '../src/weights.js';
import { hfFixture, type ReferenceTensor } from './hf-fixtures.js';

const TOLERANCE = 1e-4;
const FAMILIES = ['bert-tiny-seqcls', 'distilbert-tiny-seqcls', 'gpt2-tiny-lm', 'llama-tiny-lm'] as const;

let root: string;
let dirs = 0;
const freshDir = async () => {
  const dir = join(root, `model-${++dirs}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-onnx-import-'));
  await initBackend('wasm');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Whether two float32 arrays hold the same bits (so -0 ≠ 0 and NaN payloads count). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.every((v, i) => v === y[i]);
}

/** reference.json's batch and torch logits (encoders [batch, labels], decoders [batch, seq, vocab]). */
function referenceLogits(dir: string): { inputIds: number[][]; attentionMask: number[][]; logits: ReferenceTensor } {
  const json = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
    input_ids: number[][];
    attention_mask: number[][];
    torch: { logits: { dtype: string; shape: number[]; data: string } };
  };
  const { dtype, shape, data } = json.torch.logits;
  expect(dtype).toBe('float32');
  const bytes = Buffer.from(data, 'base64');
  // Copy into an aligned buffer: a Buffer's byteOffset need not be a multiple of 4.
  const values = new Float32Array(bytes.length / 4);
  new Uint8Array(values.buffer).set(bytes);
  return { inputIds: json.input_ids, attentionMask: json.attention_mask, logits: { shape, data: values } };
}

/** Max |a - b| over the positions the attention mask keeps (decoders: rows of [batch, seq, vocab]); all of it for encoders. */
function maskedMaxDiff(logits: Float32Array, reference: ReferenceTensor, attentionMask: number[][]): number {
  if (reference.shape.length === 2) return maxAbsDiff(logits, reference.data);
  const [batch, seq, vocab] = reference.shape as [number, number, number];
  let worst = 0;
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      if (attentionMask[b]![t] !== 1) continue;
      const at = (b * seq + t) * vocab;
      worst = Math.max(worst, maxAbsDiff(logits.subarray(at, at + vocab), reference.data.subarray(at, at + vocab)));
    }
  }
  return worst;
}

for (const name of FAMILIES) {
  const fixture = hfFixture(name);
  describe.skipIf(fixture.skip !== undefined)(`${name}${fixture.skip ? ` (${fixture.skip})` : ''}`, () => {
    let fromSafetensors: Checkpoint;
    let fromOnnx: Checkpoint;
    beforeAll(async () => {
      fromSafetensors = await loadCheckpoint(fixture.dir);
      fromOnnx = await loadOnnxCheckpoint(fixture.dir);
    });

    it('onnx/model.onnx gives the model.safetensors weights bit for bit (same names, order and shapes)', () => {
      expect(fromOnnx.config).toEqual(fromSafetensors.config);
      expect([...fromOnnx.weights.keys()]).toEqual([...fromSafetensors.weights.keys()]);
      for (const [parameter, expected] of fromSafetensors.weights) {
        const actual = fromOnnx.weights.get(parameter)!;
        expect(actual.shape, parameter).toEqual(expected.shape);
        expect(sameBits(actual.data, expected.data), `${parameter}: max |diff| ${maxAbsDiff(actual.data, expected.data)}`).toBe(true);
      }
    });

    it('refuses onnx/model_quantized.onnx, naming the fp32 file to load instead', async () => {
      const error = await loadOnnxCheckpoint(fixture.dir, { onnxFile: 'onnx/model_quantized.onnx' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WeightsError);
      const message = (error as WeightsError).message;
      expect((error as WeightsError).file).toBe(join(fixture.dir, 'onnx', 'model_quantized.onnx'));
      expect(message).toContain('quantized');
      expect(message).toContain('MatMulInteger');
      expect(message).toContain(`"${join(fixture.dir, 'onnx', 'model.onnx')}"`);
    });

    it('the graph ziplm exports from the ONNX weights reproduces the torch logits ≤ 1e-4 in onnxruntime', async () => {
      const reference = referenceLogits(fixture.dir);
      const ids = reference.inputIds.flat();
      const batch: PaddedBatch = {
        indices: reference.inputIds.map((_, i) => i),
        batchSize: reference.inputIds.length,
        seqLength: reference.inputIds[0]!.length,
        inputIds: Int32Array.from(ids),
        attentionMask: Int32Array.from(reference.attentionMask.flat()),
        tokenTypeIds: new Int32Array(ids.length), // BERT: the reference's token types are all 0
      };
      const session = await createSession(exportModelToOnnx(fromOnnx));
      try {
        const out = await session.run(onnxFeeds(await loadOrt(), fromOnnx.config, batch));
        const logits = out[ONNX_NAMES.logits]!.data as Float32Array;
        expect(maskedMaxDiff(logits, reference.logits, reference.attentionMask)).toBeLessThanOrEqual(TOLERANCE);
      } finally {
        await session.release();
      }
    });

    it('TensorFlow.js built from the ONNX weights reproduces the torch logits ≤ 1e-4', () => {
      const reference = referenceLogits(fixture.dir);
      const model = createModel(fromOnnx);
      const inputIds = tf.tensor2d(reference.inputIds, undefined, 'int32');
      const attentionMask = tf.tensor2d(reference.attentionMask, undefined, 'int32');
      const before = tf.memory().numTensors;
      try {
        // BERT gets no token types: the reference's are all 0, the model's default.
        const out = model.forward({ inputIds, attentionMask });
        expect(out.logits.shape).toEqual(reference.logits.shape);
        expect(maskedMaxDiff(out.logits.dataSync() as Float32Array, reference.logits, reference.attentionMask)).toBeLessThanOrEqual(
          TOLERANCE,
        );
        tf.dispose([out.logits, ...out.hiddenStates]);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        tf.dispose([inputIds, attentionMask]);
        model.dispose();
      }
    });
  });
}

/** The fixture's ONNX model, decoded, for tests that change it. */
async function fixtureModel(name: string): Promise<Model> {
  const file = join(hfFixture(name).dir, 'onnx', 'model.onnx');
  return decodeModel(new Uint8Array(await readFile(file)), file);
}

/** `checkpointFromOnnx` over a changed copy of a fixture's graph; the error it throws. */
async function refusal(name: string, change: (model: Model) => Model, file = 'changed.onnx'): Promise<WeightsError> {
  const config = await readConfigFile(join(hfFixture(name).dir, 'config.json'));
  const bytes = encodeModel(change(await fixtureModel(name)));
  try {
    checkpointFromOnnx(config, bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(file);
    return error as WeightsError;
  }
  throw new Error('expected a WeightsError');
}

const withGraph = (model: Model, graph: Partial<Model['graph']>): Model => ({ ...model, graph: { ...model.graph, ...graph } });

describe.skipIf(hfFixture('bert-tiny-seqcls').skip !== undefined)('refusals (BERT, GPT2 and LLaMA graphs changed in memory)', () => {
  it('a graph missing a Linear weight: the parameter it would have been is named', async () => {
    const error = await refusal('bert-tiny-seqcls', (m) =>
      withGraph(m, { initializers: m.graph.initializers.filter((t) => t.name !== 'onnx::MatMul_320') }),
    );
    expect(error.message).toContain('missing 1 tensor(s)');
    expect(error.message).toContain('bert.encoder.layer.0.attention.self.query.weight');
  });

  it('a graph missing a named parameter (a LayerNorm weight)', async () => {
    const error = await refusal('distilbert-tiny-seqcls', (m) =>
      withGraph(m, {
        initializers: m.graph.initializers.filter((t) => t.name !== 'm.distilbert.transformer.layer.1.sa_layer_norm.weight'),
      }),
    );
    expect(error.message).toContain('distilbert.transformer.layer.1.sa_layer_norm.weight');
  });

  it('a truncated file', async () => {
    const dir = await freshDir();
    const bytes = await readFile(join(hfFixture('bert-tiny-seqcls').dir, 'onnx', 'model.onnx'));
    await writeFile(join(dir, 'config.json'), await readFile(join(hfFixture('bert-tiny-seqcls').dir, 'config.json')));
    await mkdir(join(dir, 'onnx'));
    await writeFile(join(dir, 'onnx', 'model.onnx'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const error = await loadOnnxCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(join(dir, 'onnx', 'model.onnx'));
    expect((error as WeightsError).message).toContain('is not a readable ONNX model: ');
  });

  it("a config whose FFN size is not the graph's: the tensor, the initializer it came from and both shapes are named", async () => {
    // LLaMA's Linears have no bias, so the first mis-shaped tensor is a folded, transposed weight.
    const dir = await freshDir();
    const json = JSON.parse(await readFile(join(hfFixture('llama-tiny-lm').dir, 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...json, intermediate_size: 96 }));
    const onnxFile = join(hfFixture('llama-tiny-lm').dir, 'onnx', 'model.onnx');
    const error = await loadOnnxCheckpoint(dir, { onnxFile }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).file).toBe(onnxFile);
    expect((error as WeightsError).message).toContain(
      'tensor "model.layers.0.mlp.gate_proj.weight" (initializer "onnx::MatMul_698" read by MatMul node "/m/model/layers.0/mlp/gate_proj/MatMul", transposed) has shape [128, 64] but config.json implies [96, 64]',
    );
  });

  it('a MatMul whose node name and bias name different modules', async () => {
    const error = await refusal('bert-tiny-seqcls', (m) =>
      withGraph(m, {
        nodes: m.graph.nodes.map((n) =>
          n.name === '/m/bert/encoder/layer.0/attention/self/query/MatMul'
            ? { ...n, name: '/m/bert/encoder/layer.0/attention/self/key/MatMul' }
            : n,
        ),
      }),
    );
    expect(error.message).toContain(
      '"bert.encoder.layer.0.attention.self.key" and its bias\'s module "bert.encoder.layer.0.attention.self.query" disagree',
    );
  });

  it('a bias-free Linear (LLaMA) whose MatMul node has no name: its module cannot be told', async () => {
    const error = await refusal('llama-tiny-lm', (m) =>
      withGraph(m, {
        nodes: m.graph.nodes.map(({ name, ...n }) =>
          name === '/m/model/layers.1/mlp/up_proj/MatMul' ? n : { ...n, ...(name ? { name } : {}) },
        ),
      }),
    );
    expect(error.message).toContain('cannot tell which Linear layer it belongs to');
    expect(error.message).toContain('onnx::MatMul_727');
  });

  it("GPT2's tied head: a folded lm_head that is not the embedding's transpose is refused", async () => {
    const error = await refusal('gpt2-tiny-lm', (m) =>
      withGraph(m, {
        initializers: m.graph.initializers.map((t) => {
          if (t.name !== 'onnx::MatMul_591') return t;
          const data = Float32Array.from(t.data as Float32Array);
          data[5] = data[5]! + 1;
          return { ...t, data };
        }),
      }),
    );
    expect(error.message).toContain('tensor "lm_head.weight" differs from "transformer.wte.weight"');
  });
});

describe.skipIf(hfFixture('bert-tiny-seqcls').skip !== undefined)('model directory layouts', () => {
  const bert = hfFixture('bert-tiny-seqcls').dir;
  /** A directory with the BERT fixture's config and tokenizer files and the ONNX files asked for (links). */
  async function onnxLayout(files: Record<string, string>): Promise<string> {
    const dir = await freshDir();
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await symlink(join(bert, f), join(dir, f));
    for (const [at, from] of Object.entries(files)) {
      await mkdir(join(dir, at, '..'), { recursive: true });
      await symlink(join(bert, from), join(dir, at));
    }
    return dir;
  }

  it('prefers model.safetensors when an ONNX export is beside it, and says so', () => {
    expect(detectModelLayout(bert)).toEqual({
      kind: 'safetensors',
      weightsFile: 'model.safetensors',
      unusedOnnxFile: join('onnx', 'model.onnx'),
      description: `Hugging Face checkpoint (model.safetensors; preferred over the ONNX export ${join('onnx', 'model.onnx')} beside it)`,
    });
  });

  it('loads the transformers.js / Optimum layout (config.json + onnx/model.onnx) with loadModelDir', async () => {
    const dir = await onnxLayout({ 'onnx/model.onnx': 'onnx/model.onnx' });
    const model = await loadModelDir(dir);
    expect(model.layout).toEqual({
      kind: 'onnx',
      onnxFile: join('onnx', 'model.onnx'),
      quantized: false,
      description: `transformers.js / Optimum ONNX export (${join('onnx', 'model.onnx')})`,
    });
    const dense = await loadCheckpoint(bert);
    for (const [parameter, t] of dense.weights)
      expect(sameBits(model.checkpoint.weights.get(parameter)!.data, t.data), parameter).toBe(true);
  });

  it('loads a top-level model.onnx', async () => {
    const dir = await onnxLayout({ 'model.onnx': 'onnx/model.onnx' });
    expect(detectModelLayout(dir)?.description).toBe('transformers.js / Optimum ONNX export (model.onnx)');
    expect((await loadModelDir(dir)).checkpoint.weights.size).toBe((await loadCheckpoint(bert)).weights.size);
  });

  it('a directory with only a quantized export is refused, naming the fp32 file it lacks', async () => {
    const dir = await onnxLayout({ 'onnx/model_quantized.onnx': 'onnx/model_quantized.onnx' });
    expect(detectModelLayout(dir)).toMatchObject({ kind: 'onnx', quantized: true });
    await expect(loadModelDir(dir)).rejects.toThrow(
      `load the fp32 export "${join(dir, 'onnx', 'model.onnx')}" instead (not present here: export it without quantization)`,
    );
  });

  it('a directory with no weights at all: detectModelLayout says undefined, loadModelDir names both layouts', async () => {
    const dir = await onnxLayout({});
    expect(detectModelLayout(dir)).toBeUndefined();
    await expect(loadModelDir(dir)).rejects.toThrow(/model\.safetensors: file not found .*onnx\/model\.onnx/);
  });
});
