// Prints how closely ziplm reproduces the Hugging Face fixtures (../shared/fixtures/hf, beside $ZIPLM_DATA_DIR):
// for each family, the largest absolute difference from torch's logits and hidden states over the real (unpadded)
// positions, of the TensorFlow.js model and of the exported ONNX graph (onnxruntime-node), both from
// model.safetensors, and whether the weights read from onnx/model.onnx equal the safetensors ones.
// Run: pnpm --filter @ziplm/models parity   (the table on the docs site's guide page "Models and formats").

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import {
  createModel,
  dataDir,
  exportModelToOnnx,
  initBackend,
  isDecoder,
  loadCheckpoint,
  loadOnnxCheckpoint,
  ONNX_NAMES,
  onnxFeeds,
  type PaddedBatch,
} from '../src/index.js';

const FIXTURES = ['bert-tiny-seqcls', 'distilbert-tiny-seqcls', 'gpt2-tiny-lm', 'llama-tiny-lm'];

interface Encoded {
  dtype: string;
  shape: number[];
  data: string;
}

function decode(t: Encoded): Float32Array {
  const bytes = Buffer.from(t.data, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Max |a − b| over the rows (tokens) whose mask is 1; `width` values per token (`perToken`), else per sequence. */
function maskedMaxDiff(a: Float32Array, b: Float32Array, mask: number[][], width: number, perToken: boolean): number {
  let max = 0;
  const seq = mask[0]!.length;
  mask.forEach((row, i) => {
    if (!perToken) {
      for (let k = 0; k < width; k++) max = Math.max(max, Math.abs(a[i * width + k]! - b[i * width + k]!));
      return;
    }
    row.forEach((m, t) => {
      if (m !== 1) return;
      const at = (i * seq + t) * width;
      for (let k = 0; k < width; k++) max = Math.max(max, Math.abs(a[at + k]! - b[at + k]!));
    });
  });
  return max;
}

async function main(): Promise<void> {
  const root = resolve(dataDir(), '..', 'fixtures', 'hf');
  if (!existsSync(root)) {
    console.log(`no fixtures at ${root} (they are read beside $ZIPLM_DATA_DIR, default ../shared/data)`);
    return;
  }
  console.log(`backend: ${(await initBackend()).backend}`);
  const ort = await loadOrt();
  console.log('| fixture | tfjs logits | tfjs hidden states | ONNX logits | ONNX hidden states | weights from onnx/model.onnx |');
  console.log('|---|---|---|---|---|---|');
  for (const name of FIXTURES) {
    const dir = join(root, name);
    const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
      input_ids: number[][];
      attention_mask: number[][];
      token_type_ids?: number[][];
      torch: { logits: Encoded; hidden_states: Encoded[]; last_layer_output_before_final_norm?: Encoded };
    };
    const checkpoint = await loadCheckpoint(dir);
    const { config } = checkpoint;
    const decoder = isDecoder(config);
    const [batch, seq] = [ref.input_ids.length, ref.input_ids[0]!.length];
    const logitsWidth = decoder ? config.vocabSize : (ref.torch.logits.shape.at(-1) ?? 0);
    const torchLogits = decode(ref.torch.logits);
    // Hidden states as ziplm returns them: the decoders' last entry is the last layer before the final norm.
    const torchStates = ref.torch.hidden_states.map(decode);
    if (decoder) torchStates[torchStates.length - 1] = decode(ref.torch.last_layer_output_before_final_norm!);

    const ids = ref.input_ids.flat();
    const mask = ref.attention_mask.flat();
    const model = createModel(checkpoint);
    const out = tf.tidy(() =>
      model.forward({
        inputIds: tf.tensor2d(ids, [batch, seq], 'int32'),
        attentionMask: tf.tensor2d(mask, [batch, seq], 'int32'),
        ...(ref.token_type_ids ? { tokenTypeIds: tf.tensor2d(ref.token_type_ids.flat(), [batch, seq], 'int32') } : {}),
      }),
    );
    const tfjsLogits = out.logits.dataSync() as Float32Array;
    const tfjsStates = out.hiddenStates.map((h) => h.dataSync() as Float32Array);
    tf.dispose(out);
    model.dispose();

    const padded: PaddedBatch = {
      indices: ref.input_ids.map((_, i) => i),
      batchSize: batch,
      seqLength: seq,
      inputIds: Int32Array.from(ids),
      attentionMask: Int32Array.from(mask),
      tokenTypeIds: Int32Array.from(ref.token_type_ids?.flat() ?? new Array<number>(ids.length).fill(0)),
    };
    const session = await createSession(exportModelToOnnx(checkpoint, { hiddenStates: true }));
    const result = await session.run(onnxFeeds(ort, config, padded));
    const onnxLogits = result[ONNX_NAMES.logits]!.data as Float32Array;
    const onnxStates = torchStates.map((_, i) => result[ONNX_NAMES.hiddenState(i)]!.data as Float32Array);
    await session.release();

    const states = (ours: Float32Array[]) =>
      Math.max(...torchStates.map((t, i) => maskedMaxDiff(ours[i]!, t, ref.attention_mask, config.hiddenSize, true)));
    const fromOnnx = await loadOnnxCheckpoint(dir);
    let identical = fromOnnx.weights.size === checkpoint.weights.size;
    for (const [key, t] of checkpoint.weights) {
      const other = fromOnnx.weights.get(key);
      identical &&= other !== undefined && other.data.length === t.data.length && other.data.every((v, i) => v === t.data[i]);
    }
    const e = (x: number) => x.toExponential(1);
    console.log(
      `| \`${name}\` | ${e(maskedMaxDiff(tfjsLogits, torchLogits, ref.attention_mask, logitsWidth, decoder))} | ${e(states(tfjsStates))} | ` +
        `${e(maskedMaxDiff(onnxLogits, torchLogits, ref.attention_mask, logitsWidth, decoder))} | ${e(states(onnxStates))} | ${identical ? 'identical' : 'DIFFERENT'} |`,
    );
  }
}

await main();
