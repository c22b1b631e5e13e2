// A simulated engine: sessions "run" by advancing a fake clock by a time computed from the graph's
// shape (read back from the ziplm metadata of @ziplm/models' exports). Makes the table-building
// logic testable exactly and deterministically, independent of the machine's load.
import { decodeModel } from '@ziplm/onnx';
import type { OrtWebModule, OrtWebSession } from '../src/browser/index.js';
import { inferenceEnvironment } from '../src/index.js';
import type { EngineSession, FeedTensor, SessionRunner } from '../src/measure/index.js';

export interface GraphInfo {
  /** 'model' (whole model), 'attention' / 'ffn' (single block), 'pass-through' (no ziplm metadata). */
  kind: 'model' | 'attention' | 'ffn' | 'pass-through';
  layerHeads: number[];
  layerIntermediate: number[];
  vocabSize: number;
  /** The graph's number format (`ziplm.graph`'s `quantization.precision`; absent = fp32). */
  precision: 'fp32' | 'int8';
}

export interface FakeEngine {
  runner: SessionRunner;
  clock: () => number;
  /** Runs per graph kind/size key, e.g. `ffn:4`, `model:4,4|0,0`. */
  runs: Map<string, number>;
}

function describe(bytes: Uint8Array): GraphInfo {
  const model = decodeModel(bytes);
  const meta = model.metadata ?? {};
  if (!meta['ziplm.graph'] || !meta['ziplm.config'])
    return { kind: 'pass-through', layerHeads: [], layerIntermediate: [], vocabSize: 0, precision: 'fp32' };
  const graph = JSON.parse(meta['ziplm.graph']) as { kind: string; size?: number; quantization?: { precision: string } };
  const precision = graph.quantization?.precision === 'int8' ? 'int8' : 'fp32';
  const hf = JSON.parse(meta['ziplm.config']) as Record<string, unknown> & {
    ziplm?: { layer_heads: number[]; layer_intermediate_sizes: number[] };
  };
  const L = (hf.num_hidden_layers ?? hf.n_layer) as number;
  const heads = (hf.num_attention_heads ?? hf.n_head) as number;
  const inter = (hf.intermediate_size ?? hf.n_inner) as number;
  const layerHeads = hf.ziplm?.layer_heads ?? new Array<number>(L).fill(heads);
  const layerIntermediate = hf.ziplm?.layer_intermediate_sizes ?? new Array<number>(L).fill(inter);
  if (graph.kind === 'attention')
    return { kind: 'attention', layerHeads: [graph.size!], layerIntermediate: [0], vocabSize: hf.vocab_size as number, precision };
  if (graph.kind === 'ffn')
    return { kind: 'ffn', layerHeads: [0], layerIntermediate: [graph.size!], vocabSize: hf.vocab_size as number, precision };
  return { kind: 'model', layerHeads, layerIntermediate, vocabSize: hf.vocab_size as number, precision };
}

/** A fake engine whose run time (ms) is `time(info, runIndex)` for the graph's n-th run. */
export function fakeEngine(time: (info: GraphInfo, run: number) => number): FakeEngine {
  let now = 0;
  const runs = new Map<string, number>();
  const runner: SessionRunner = {
    engine: 'onnxruntime-node',
    engineVersion: 'fake',
    async createSession(bytes: Uint8Array): Promise<EngineSession> {
      const info = describe(bytes);
      const graph = decodeModel(bytes).graph;
      const key = `${info.kind}:${info.layerHeads.join(',')}|${info.layerIntermediate.join(',')}${info.precision === 'int8' ? ':int8' : ''}`;
      let bound: readonly FeedTensor[] | undefined;
      return {
        inputs: graph.inputs.map((i) => ({ name: i.name, type: i.dataType, shape: [...(i.dims ?? [])] })),
        bind(feeds) {
          bound = feeds;
        },
        async run() {
          if (!bound) throw new Error('run before bind');
          const n = runs.get(key) ?? 0;
          runs.set(key, n + 1);
          now += time(info, n);
        },
        async release() {},
      };
    },
  };
  return { runner, clock: () => now, runs };
}

/**
 * The simulated engine as an `onnxruntime-web` module (for `createOrtWebRunner` and the browser
 * entry): sessions run on `fakeEngine`'s clock. Reading `clock` advances it by a nanosecond, so a
 * clock resolution can be measured on it; `runs` as in `fakeEngine`.
 */
export function fakeOrtWeb(time: (info: GraphInfo, run: number) => number): {
  ort: OrtWebModule;
  clock: () => number;
  runs: Map<string, number>;
} {
  const engine = fakeEngine(time);
  let reads = 0;
  const webEnv = inferenceEnvironment({ engine: 'onnxruntime-web', threads: 1 });
  class FakeTensor {
    constructor(
      readonly type: string,
      readonly data: Float32Array | BigInt64Array,
      readonly dims: readonly number[],
    ) {}
  }
  const ort: OrtWebModule = {
    env: { wasm: {}, versions: { web: 'fake' } },
    InferenceSession: {
      async create(model: Uint8Array): Promise<OrtWebSession> {
        const session = await engine.runner.createSession(model, webEnv);
        session.bind([]);
        return {
          inputMetadata: session.inputs.map((i) => ({ name: i.name, isTensor: true as const, type: i.type, shape: i.shape })),
          run: async () => {
            await session.run();
            return {};
          },
          release: () => session.release(),
        };
      },
    },
    Tensor: FakeTensor,
  };
  return { ort, clock: () => engine.clock() + 1e-6 * ++reads, runs: engine.runs };
}
