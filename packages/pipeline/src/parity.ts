// Engine parity: run a model in TensorFlow.js and its ONNX export in onnxruntime on the same inputs,
// and compare the logits and every hidden state. It is the quickest way to see that a checkpoint loads,
// exports and runs on the engine it will be deployed on (`ziplm check` prints the result).

import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, median } from '@ziplm/core';
import {
  createModel,
  exportModelToOnnx,
  familyName,
  hasTokenTypes,
  initBackend,
  ONNX_NAMES,
  onnxFeeds,
  padBatch,
  parameterCount,
  SAMPLE_SENTENCES,
  SAMPLE_TEXT,
  type Checkpoint,
  type ModelConfig,
  type Tokenizer,
} from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { InferenceSession } from 'onnxruntime-node';
import { checkInteger, checkPositive } from './internal/options.js';

export interface EngineParityOptions {
  /** Timed runs per engine; the median is reported (default 10). */
  repeats?: number;
  /** Largest allowed |tfjs − onnxruntime| over the logits and the hidden states (default 1e-4). */
  tolerance?: number;
}

/** What {@link checkEngineParity} found (`ziplm check --json` prints it, with the model directory). */
export interface EngineParityResult {
  readonly modelType: ModelConfig['modelType'];
  /** The family's name: BERT, DistilBERT, GPT2 or LLaMA. */
  readonly family: string;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  readonly parameters: number;
  /** The TensorFlow.js backend the model ran on, and why it was chosen. */
  readonly backend: string;
  readonly backendReason: string;
  /** The inputs: the built-in sample sentences (BERT) or sample prose cut into sentences (GPT2), padded. */
  readonly batch: { readonly size: number; readonly seqLength: number };
  readonly tfjsMedianMs: number;
  readonly onnxExportMs: number;
  readonly onnxSessionMs: number;
  readonly onnxMedianMs: number;
  readonly maxAbsDiffLogits: number;
  readonly maxAbsDiffHiddenStates: number;
  readonly tolerance: number;
  /** Both differences are within the tolerance. */
  readonly ok: boolean;
}

const DEFAULT_REPEATS = 10;
const DEFAULT_PARITY_TOLERANCE = 1e-4;

async function timeIt(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Runs the model's built-in sample inputs through TensorFlow.js and through its ONNX export in
 * onnxruntime, and reports how far the logits and hidden states differ and how long each engine takes.
 * Initialises the TensorFlow.js backend (`initBackend`) when needed.
 */
export async function checkEngineParity(
  model: { checkpoint: Checkpoint; tokenizer: Tokenizer },
  options: EngineParityOptions = {},
): Promise<EngineParityResult> {
  checkInteger(options.repeats, 'repeats', 1);
  checkPositive(options.tolerance, 'tolerance', true);
  const repeats = options.repeats ?? DEFAULT_REPEATS;
  const tolerance = options.tolerance ?? DEFAULT_PARITY_TOLERANCE;
  const { checkpoint, tokenizer } = model;
  const { config } = checkpoint;
  const backend = await initBackend();

  const texts =
    config.modelType === 'bert' ? SAMPLE_SENTENCES.map((s) => s.text) : SAMPLE_TEXT.split(/(?<=\.)\s+/).filter((s) => s.length > 0);
  const encodings = texts.map((t) => tokenizer.encode(t, undefined, { maxLength: config.maxPositions }));
  const batch = padBatch(encodings, { padId: tokenizer.padId });
  const shape: [number, number] = [batch.batchSize, batch.seqLength];

  // TensorFlow.js.
  const tfjsModel = createModel(checkpoint);
  const inputs = {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
    // Only a model with token types reads them (BERT; DistilBERT's ONNX graph has no such input either).
    ...(hasTokenTypes(config) ? { tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32') } : {}),
  };
  let tfjsLogits: Float32Array;
  let tfjsStates: Float32Array[];
  const tfjsTimes: number[] = [];
  try {
    const forward = () => tfjsModel.forward(inputs);
    const first = forward();
    try {
      tfjsLogits = (await first.logits.data()) as Float32Array;
      tfjsStates = await Promise.all(first.hiddenStates.map((h) => h.data() as Promise<Float32Array>));
    } finally {
      tf.dispose(first);
    }
    for (let i = 0; i < repeats; i++) {
      tfjsTimes.push(
        await timeIt(async () => {
          const out = forward();
          await out.logits.data();
          tf.dispose(out);
        }),
      );
    }
  } finally {
    tf.dispose(inputs);
    tfjsModel.dispose();
  }

  // onnxruntime.
  let bytes: Uint8Array = new Uint8Array();
  const onnxExportMs = await timeIt(() => {
    bytes = exportModelToOnnx(checkpoint, { hiddenStates: true });
  });
  const ort = await loadOrt();
  let session!: InferenceSession;
  const onnxSessionMs = await timeIt(async () => {
    session = await createSession(bytes);
  });
  const onnxTimes: number[] = [];
  let outputs: InferenceSession.ReturnType;
  try {
    const feeds = onnxFeeds(ort, config, batch) as InferenceSession.FeedsType;
    outputs = await session.run(feeds);
    for (let i = 0; i < repeats; i++) onnxTimes.push(await timeIt(() => session.run(feeds)));
  } finally {
    await session.release();
  }

  const maxAbsDiffLogits = maxAbsDiff(tfjsLogits, outputs[ONNX_NAMES.logits]!.data as Float32Array);
  let maxAbsDiffHiddenStates = 0;
  tfjsStates.forEach((state, i) => {
    const onnxState = outputs[ONNX_NAMES.hiddenState(i)]!.data as Float32Array;
    maxAbsDiffHiddenStates = Math.max(maxAbsDiffHiddenStates, maxAbsDiff(state, onnxState));
  });
  return {
    modelType: config.modelType,
    family: familyName(config),
    layers: config.numLayers,
    hiddenSize: config.hiddenSize,
    layerHeads: config.layerHeads,
    layerIntermediate: config.layerIntermediate,
    parameters: parameterCount(config),
    backend: backend.backend,
    backendReason: backend.reason,
    batch: { size: batch.batchSize, seqLength: batch.seqLength },
    tfjsMedianMs: median(tfjsTimes),
    onnxExportMs,
    onnxSessionMs,
    onnxMedianMs: median(onnxTimes),
    maxAbsDiffLogits,
    maxAbsDiffHiddenStates,
    tolerance,
    ok: maxAbsDiffLogits <= tolerance && maxAbsDiffHiddenStates <= tolerance,
  };
}
