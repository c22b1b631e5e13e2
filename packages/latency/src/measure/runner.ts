// The engine seam. Table building and verification talk to an inference engine only through a
// SessionRunner: create a session from ONNX bytes, bind preallocated inputs, run. onnxruntime-node
// is one implementation (ort.ts); onnxruntime-web (in a browser, or wasm in Node) fits the same
// interface, and tests inject fakes.

import { seededRandom } from '@ziplm/core';
import { MeasurementError } from '../errors.js';
import type { InferenceEngine, InferenceEnvironment } from '../environment.js';

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
        throw new MeasurementError(
          `${where}: input "${input.name}" has dimension ${i} = ${JSON.stringify(d)}, which the environment does not define`,
        );
    }
  });
}

/**
 * Inputs for timing: token ids uniform in the vocabulary, an all-ones attention mask (every token
 * real: timing must not depend on padding), zero token types, float inputs (hidden states, KV
 * caches) uniform in [-1, 1). Deterministic for a seed.
 */
export function makeFeeds(
  inputs: readonly InputInfo[],
  env: InferenceEnvironment,
  vocabSize: number,
  where: string,
  seed = 0,
): FeedTensor[] {
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

/** A configuration of a `SessionPool`: a graph and the vocabulary size its token inputs draw from. */
export interface PooledGraph {
  readonly id: string;
  readonly onnx: Uint8Array;
  readonly vocabSize: number;
}

/**
 * Engine sessions for a set of graphs that can all be renewed at once (`recycle`): releases each
 * session and opens a fresh one on the same bytes and the same bound inputs. Timing over several
 * renewals averages out per-session biases (protocol.ts). `run(id)` always uses the current session.
 */
export class SessionPool {
  private readonly graphs = new Map<string, { graph: PooledGraph; feeds: FeedTensor[]; session: EngineSession }>();

  constructor(
    private readonly runner: SessionRunner,
    private readonly env: InferenceEnvironment,
    private readonly seed = 0,
  ) {}

  /** Opens a session for `graph` and binds its inputs; returns it (its `inputs` describe the graph). */
  async open(graph: PooledGraph, onError: (error: Error) => Error = (e) => e): Promise<EngineSession> {
    if (this.graphs.has(graph.id)) throw new MeasurementError(`graph "${graph.id}" is already open`);
    let session: EngineSession;
    try {
      session = await this.runner.createSession(graph.onnx, this.env);
    } catch (error) {
      throw onError(error as Error);
    }
    const feeds = makeFeeds(session.inputs, this.env, graph.vocabSize, graph.id, this.seed);
    session.bind(feeds);
    this.graphs.set(graph.id, { graph, feeds, session });
    return session;
  }

  /** One inference of the current session of `id`. */
  run(id: string): Promise<void> {
    const entry = this.graphs.get(id);
    if (!entry) throw new MeasurementError(`graph "${id}" is not open`);
    return entry.session.run();
  }

  /** Replaces every session by a fresh one (one at a time, so memory never holds two), then runs each `warmupRuns` times untimed. */
  async recycle(warmupRuns: number): Promise<void> {
    for (const entry of this.graphs.values()) {
      await entry.session.release();
      entry.session = await this.runner.createSession(entry.graph.onnx, this.env);
      entry.session.bind(entry.feeds);
    }
    for (let r = 0; r < warmupRuns; r++) for (const entry of this.graphs.values()) await entry.session.run();
  }

  async releaseAll(): Promise<void> {
    for (const entry of this.graphs.values()) await entry.session.release();
    this.graphs.clear();
  }
}
