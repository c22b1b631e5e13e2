// A member directory is a transformers.js model directory (issue 16, "Out, loadable by the user's code"):
// what `writeMember` writes loads in the real @huggingface/transformers from the local directory, with the
// logits of ziplm's onnxruntime output, and its record's `files` list and check the nested onnx/ files.
// The FP32 graph of an encoder member is stored once (onnx/model.onnx is a hard link to model.onnx); a
// decoder member's onnx/model.onnx is Optimum's decoder-with-past graph that transformers.js' generate()
// runs, which no environment ships, so it is exported beside the shipped graph (INT8 too, for an INT8 environment).

import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inferenceEnvironment, type InferenceEnvironment } from '@ziplm/latency';
import {
  builtinModelDir,
  exportModelToOnnx,
  loadModelDir,
  onnxFeeds,
  shrinkWeights,
  type Checkpoint,
  type KeptStructures,
  type ModelConfig,
  type PaddedBatch,
  type Tokenizer,
} from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { maxAbsDiff, releasedAfterAll } from '@ziplm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunDirectoryError } from '../src/errors.js';
import type { MemberRecord } from '../src/results.js';
import { ONNX_FILE, readCheckedMember, writeMember } from '../src/stages/members.js';

const TOLERANCE = 1e-4;
const SENTENCES = ['Hello world!', "The café's acting was bleak!", 'A warm, funny film.'];
const ort = await loadOrt();
const session = releasedAfterAll((bytes: Uint8Array) => createSession(bytes));

/** The part of transformers.js these tests use (typed here: see `loadTransformersJs`). */
interface TjsTensor {
  readonly data: ArrayLike<number | bigint>;
  readonly dims: number[];
}
interface TjsInputs {
  readonly input_ids: TjsTensor;
  readonly attention_mask: TjsTensor;
}
type TjsTokenizer = (text: string[], options: { padding: boolean }) => TjsInputs;
interface TjsModel {
  (inputs: TjsInputs): Promise<{ logits: TjsTensor }>;
  generate(options: TjsInputs & { max_new_tokens: number; min_new_tokens: number; do_sample: boolean }): Promise<TjsTensor>;
  dispose(): Promise<unknown>;
}
interface TransformersJs {
  env: { allowRemoteModels: boolean; allowLocalModels: boolean; useFSCache: boolean; localModelPath: string };
  pipeline(task: 'text-classification', model: string): Promise<{ tokenizer: TjsTokenizer; model: TjsModel }>;
  AutoTokenizer: { from_pretrained(name: string): Promise<TjsTokenizer> };
  AutoModelForCausalLM: { from_pretrained(name: string): Promise<TjsModel> };
}

/**
 * @huggingface/transformers is a dev dependency of @ziplm/models (whose tests use it typed), not of this
 * package: it is resolved from there. Its CommonJS build is the one a `require` resolution finds.
 */
async function loadTransformersJs(): Promise<TransformersJs> {
  const fromModels = createRequire(join(builtinModelDir('tiny-bert'), '..', '..', 'package.json'));
  const module = (await import(pathToFileURL(fromModels.resolve('@huggingface/transformers')).href)) as {
    default?: TransformersJs;
  } & TransformersJs;
  return module.default ?? module;
}

let root: string;
let tjs: TransformersJs;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-member-tjs-'));
  tjs = await loadTransformersJs();
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.useFSCache = false;
  tjs.env.localModelPath = root;
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every other head and 3 of 4 neurons per layer; layer 1's attention removed. */
function pruning(config: ModelConfig): KeptStructures {
  return {
    heads: config.layerHeads.map((n, l) => (l === 1 ? [] : Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 0))),
    neurons: config.layerIntermediate.map((n) => Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 !== 3)),
  };
}

/** A pruned built-in model and its tokenizer. */
async function prunedBuiltin(name: 'tiny-bert' | 'tiny-gpt2'): Promise<{ checkpoint: Checkpoint; tokenizer: Tokenizer }> {
  const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir(name));
  return { checkpoint: shrinkWeights(checkpoint, pruning(checkpoint.config)), tokenizer };
}

function memberRecord(checkpoint: Checkpoint, name: string): MemberRecord {
  return {
    method: 'ziplm',
    target: 2,
    predictedSpeedup: 2,
    searchError: 0,
    layerHeads: [...checkpoint.config.layerHeads],
    layerIntermediate: [...checkpoint.config.layerIntermediate],
    layerParameters: 0,
    dir: `members/${name}`,
    keptHeads: [],
    keptNeurons: [],
  };
}

/** Writes a member as `root/name` (the name transformers.js loads it by). */
async function member(
  name: string,
  model: { checkpoint: Checkpoint; tokenizer: Tokenizer },
  env: InferenceEnvironment,
  int8?: Uint8Array,
): Promise<{ dir: string; record: MemberRecord }> {
  const dir = join(root, name);
  const record = await writeMember(dir, model.checkpoint, model.tokenizer, env, memberRecord(model.checkpoint, name), undefined, int8);
  return { dir, record };
}

/** onnxruntime's logits of `graph` on transformers.js' tokenization of the sentences. */
async function ortLogits(graph: Uint8Array, config: ModelConfig, inputs: TjsInputs): Promise<Float32Array> {
  const [batchSize, seqLength] = inputs.input_ids.dims as [number, number];
  const ints = (t: TjsTensor) => Int32Array.from(Array.from(t.data, Number));
  const batch: PaddedBatch = {
    indices: Array.from({ length: batchSize }, (_, b) => b),
    batchSize,
    seqLength,
    inputIds: ints(inputs.input_ids),
    attentionMask: ints(inputs.attention_mask),
    tokenTypeIds: new Int32Array(batchSize * seqLength),
  };
  const out = await (await session(graph)).run(onnxFeeds(ort, config, batch));
  return out.logits!.data as Float32Array;
}

describe('a member directory is a transformers.js model directory', () => {
  it('FP32 classifier: loads with pipeline("text-classification"), stores its graph once, lists and checks onnx/ files', async () => {
    const model = await prunedBuiltin('tiny-bert');
    const { dir, record } = await member('bert-member', model, inferenceEnvironment());
    expect(Object.keys(record.files!)).toEqual(
      expect.arrayContaining([
        'model.onnx',
        'model.safetensors',
        'onnx/model.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
        'config.json',
      ]),
    );
    // One graph on disk: onnx/model.onnx is model.onnx (a hard link), with the same digest.
    const [shipped, layout] = await Promise.all([stat(join(dir, ONNX_FILE)), stat(join(dir, 'onnx', 'model.onnx'))]);
    expect(layout.ino).toBe(shipped.ino);
    expect(record.files!['onnx/model.onnx']).toEqual(record.files![ONNX_FILE]);
    expect(await readCheckedMember(dir)).toEqual(record);

    const classifier = await tjs.pipeline('text-classification', 'bert-member');
    const inputs = classifier.tokenizer(SENTENCES, { padding: true });
    const { logits } = await classifier.model(inputs);
    const expected = await ortLogits(new Uint8Array(await readFile(join(dir, ONNX_FILE))), model.checkpoint.config, inputs);
    expect(maxAbsDiff(logits.data as Float32Array, expected)).toBeLessThanOrEqual(TOLERANCE);
    await classifier.model.dispose();

    // ziplm reads the member back as before (config.json and tokenizer_config.json now carry transformers.js' fields).
    const reread = await loadModelDir(dir);
    expect(reread.checkpoint.config).toEqual(model.checkpoint.config);
    for (const sentence of SENTENCES) expect(reread.tokenizer.encode(sentence)).toEqual(model.tokenizer.encode(sentence));
  });

  it('a replaced onnx/model.onnx is refused naming it', async () => {
    const model = await prunedBuiltin('tiny-bert');
    const { dir } = await member('bert-member-tampered', model, inferenceEnvironment());
    const nested = join(dir, 'onnx', 'model.onnx');
    const bytes = await readFile(nested);
    bytes[bytes.length - 1] ^= 1;
    // Replaced, not edited in place: editing the hard link would change model.onnx too.
    await unlink(nested);
    await writeFile(nested, bytes);
    await expect(readCheckedMember(dir)).rejects.toThrow(RunDirectoryError);
    await expect(readCheckedMember(dir)).rejects.toThrow(/onnx[\\/]model\.onnx/);
  });

  it.each([
    ['generation', inferenceEnvironment({ mode: 'generation' })],
    ['full-sequence', inferenceEnvironment()],
    ['INT8 generation', inferenceEnvironment({ mode: 'generation', precision: 'int8-dynamic' })],
  ] as const)('%s decoder member: its onnx/model.onnx is the with-past graph, which loads and generates', async (kind, env) => {
    const model = await prunedBuiltin('tiny-gpt2');
    const name = `gpt2-member-${kind.replaceAll(' ', '-')}`;
    const { dir, record } = await member(name, model, env);
    expect(record.files!['onnx/model.onnx']!.sha256).not.toBe(record.files![ONNX_FILE]!.sha256);
    const int8 = env.precision !== undefined;
    expect(record.files!['onnx/model_quantized.onnx'] !== undefined).toBe(int8);
    expect(await readCheckedMember(dir)).toEqual(record);
    const tokenizer = await tjs.AutoTokenizer.from_pretrained(name);
    const lm = await tjs.AutoModelForCausalLM.from_pretrained(name);
    const inputs = tokenizer(SENTENCES, { padding: true });
    if (!int8) {
      // The prompt step (empty cache) gives the full-sequence graph's logits at every attended position; the
      // padding positions get position_ids 1 from transformers.js (as in Hugging Face) and are left out.
      const { logits } = await lm(inputs);
      const expected = await ortLogits(exportModelToOnnx(model.checkpoint), model.checkpoint.config, inputs);
      const vocab = model.checkpoint.config.vocabSize;
      const attended = (l: Float32Array): Float32Array[] =>
        Array.from(inputs.attention_mask.data, Number).flatMap((m, row) => (m === 1 ? [l.subarray(row * vocab, (row + 1) * vocab)] : []));
      expect(maxAbsDiff(attended(logits.data as Float32Array), attended(expected))).toBeLessThanOrEqual(TOLERANCE);
    }
    const generated = await lm.generate({ ...inputs, max_new_tokens: 4, min_new_tokens: 4, do_sample: false });
    expect(generated.dims).toEqual([SENTENCES.length, inputs.input_ids.dims[1]! + 4]);
    await lm.dispose();
  });

  it('INT8 member: its shipped graph is onnx/model_quantized.onnx, the graph transformers.js loads by default', async () => {
    const model = await prunedBuiltin('tiny-bert');
    const int8 = exportModelToOnnx(model.checkpoint, { quantize: { activations: 'dynamic' } });
    const { dir, record } = await member('bert-member-int8', model, inferenceEnvironment({ precision: 'int8-dynamic' }), int8);
    expect(record.files!['onnx/model_quantized.onnx']).toEqual(record.files![ONNX_FILE]);
    expect(record.files!['onnx/model.onnx']!.sha256).not.toBe(record.files![ONNX_FILE]!.sha256);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config['transformers.js_config']).toEqual({ dtype: 'q8' });
    const classifier = await tjs.pipeline('text-classification', 'bert-member-int8');
    const inputs = classifier.tokenizer(SENTENCES, { padding: true });
    const { logits } = await classifier.model(inputs);
    expect(maxAbsDiff(logits.data as Float32Array, await ortLogits(int8, model.checkpoint.config, inputs))).toBeLessThanOrEqual(TOLERANCE);
    await classifier.model.dispose();
  });
});
