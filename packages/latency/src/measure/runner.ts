// The engine seam. Table building and verification talk to an inference engine only through a
// SessionRunner: create a session from ONNX bytes, bind preallocated inputs, run. onnxruntime-node
// is one implementation (ort.ts); onnxruntime-web (in a browser, or wasm in Node) fits the same
// interface, and tests inject fakes.

import { MeasurementError } from '../errors.js';
import type { InferenceEngine, InferenceEnvironment } from '../environment.js';
import { seededRandom } from '../stats.js';

/** One graph input as the engine reports it; symbolic dimensions are strings. */
export interface InputInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: ReadonlyArray<number | string>;
}

/** A preallocated input tensor. */
export interface FeedTensor {
  readonly name: string;
  readonly type: 'float32' | 'int64';
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** A loaded model, ready to be run repeatedly on the same inputs. */
export interface EngineSession {
  readonly inputs: readonly InputInfo[];
  /** Stores the inputs (wrapping them once in engine tensors); every `run` reuses them. */
  bind(feeds: readonly FeedTensor[]): void;
  /** One inference on the bound inputs; resolves when the outputs are ready. */
  run(): Promise<void>;
  release(): Promise<void>;
}

/** Creates engine sessions under an environment's engine settings (threads, graph optimisation). */
export interface SessionRunner {
  readonly engine: InferenceEngine;
  readonly engineVersion: string;
  createSession(model: Uint8Array, env: InferenceEnvironment): Promise<EngineSession>;
}

/** Symbolic dimension names of @ziplm/models' ONNX graphs (`ONNX_DIMS`). */
const SYMBOLS = {
  batch: 'batch',
  sequence: 'sequence',
  past: 'past_sequence',
  total: 'total_sequence',
} as const;

/** Resolves an input's dimensions for an environment (batch, sequence, past and total lengths). */
export function resolveDims(input: InputInfo, env: InferenceEnvironment, where: string): number[] {
  return input.shape.map((d, i) => {
    if (typeof d === 'number' && d >= 0) return d;
    switch (d) {
      case SYMBOLS.batch:
        return env.batchSize;
      case SYMBOLS.sequence:
        return env.sequenceLength;
      case SYMBOLS.past:
        return env.pastLength;
      case SYMBOLS.total:
        return env.pastLength + env.sequenceLength;
      default:
        throw new MeasurementError(`${where}: input "${input.name}" has dimension ${i} = ${JSON.stringify(d)}, which the environment does not define`);
    }
  });
}

/**
 * Inputs for timing: token ids uniform in the vocabulary, an all-ones attention mask (every token
 * real: timing must not depend on padding), zero token types, float inputs (hidden states, KV
 * caches) uniform in [-1, 1). Deterministic for a seed.
 */
export function makeFeeds(inputs: readonly InputInfo[], env: InferenceEnvironment, vocabSize: number, where: string, seed = 0): FeedTensor[] {
  const random = seededRandom(seed);
  return inputs.map((input) => {
    const dims = resolveDims(input, env, where);
    const size = dims.reduce((a, b) => a * b, 1);
    if (input.type === 'float32') {
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = 2 * random() - 1;
      return { name: input.name, type: 'float32', dims, data };
    }
    if (input.type === 'int64') {
      const data = new BigInt64Array(size);
      if (input.name === 'input_ids') for (let i = 0; i < size; i++) data[i] = BigInt(Math.floor(random() * vocabSize));
      else if (input.name === 'attention_mask') data.fill(1n);
      // token_type_ids and any other integer input: zeros
      return { name: input.name, type: 'int64', dims, data };
    }
    throw new MeasurementError(`${where}: input "${input.name}" has type ${input.type}; only float32 and int64 inputs are supported`);
  });
}
