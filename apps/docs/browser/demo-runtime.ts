// The demo page's engine (demo.md, browser/ClassifyDemo.vue): fetches the manifest, the vocabulary and
// every model's ONNX graph (each checked against the manifest's SHA-256), starts onnxruntime-web, and then
// classifies the reader's text with every model and times them side by side. Loaded by the component's
// `onMounted` through a dynamic import, so none of it runs when VitePress renders the page at build time.

import type { InferenceSession, Tensor } from 'onnxruntime-web';
import {
  demoTokenizer,
  encodeFixedLength,
  type FixedLengthInput,
  type ModelTiming,
  type Prediction,
  predict,
  timeInterleaved,
} from './classify.ts';
import { type DemoManifest, type DemoModel, parseDemoManifest } from './demo-manifest.ts';
import { createWebSession, loadOrtWeb, type WebBackend, type WebRuntime } from './ort-web.ts';
import { fetchVerified } from './verified-fetch.ts';

/** Input and output names of ziplm's exported BERT graph (`ONNX_NAMES` of @ziplm/models). */
const INPUT_IDS = 'input_ids';
const ATTENTION_MASK = 'attention_mask';
const TOKEN_TYPE_IDS = 'token_type_ids';
const LOGITS = 'logits';

export interface DemoOptions {
  /** Absolute URL of the folder holding manifest.json, ending in `/`. */
  readonly demoBaseUrl: string;
  /** Absolute URL of onnxruntime-web's wasm files, ending in `/`. */
  readonly wasmBaseUrl: string;
  readonly backend: WebBackend;
  readonly threads: number;
  readonly onProgress?: (message: string) => void;
}

/** A model ready to run, and what loading it cost. */
export interface LoadedModel {
  readonly info: DemoModel;
  readonly session: InferenceSession;
  /** Fetch and SHA-256 check of its graph (ms). */
  readonly fetchMs: number;
  /** onnxruntime-web session creation (ms). */
  readonly sessionMs: number;
}

/** One classification of the reader's text by every model. */
export interface Classification {
  readonly text: string;
  readonly input: FixedLengthInput;
  /** In the manifest's model order (dense first). */
  readonly predictions: readonly Prediction[];
  /** Each model's time for this one run (ms): a first estimate, before `time` measures properly. */
  readonly firstRunMs: readonly number[];
}

export class DemoEngine {
  private feeds: Record<string, Tensor> | undefined;

  private constructor(
    readonly manifest: DemoManifest,
    readonly runtime: WebRuntime,
    readonly models: readonly LoadedModel[],
    private readonly tokenizer: ReturnType<typeof demoTokenizer>,
    /** Time to fetch the manifest and vocabulary and start onnxruntime-web (ms). */
    readonly setupMs: number,
  ) {}

  /** Loads everything the demo runs; progress messages go to `onProgress`. */
  static async open(options: DemoOptions): Promise<DemoEngine> {
    const progress = options.onProgress ?? (() => {});
    const t0 = performance.now();
    progress('reading the manifest');
    const manifestResponse = await fetch(`${options.demoBaseUrl}manifest.json`);
    if (!manifestResponse.ok) throw new Error(`${options.demoBaseUrl}manifest.json: HTTP ${manifestResponse.status}`);
    const manifest = parseDemoManifest(await manifestResponse.json());
    progress('loading the vocabulary');
    const vocabularyBytes = await fetchVerified(options.demoBaseUrl, manifest.vocabulary);
    const vocabulary: unknown = JSON.parse(new TextDecoder().decode(vocabularyBytes));
    if (!Array.isArray(vocabulary) || !vocabulary.every((t) => typeof t === 'string'))
      throw new Error(`${manifest.vocabulary.file}: expected a JSON array of tokens`);
    const tokenizer = demoTokenizer(vocabulary, manifest.tokenizer);
    progress(`starting onnxruntime-web (${options.backend}, ${options.threads} thread${options.threads === 1 ? '' : 's'})`);
    const runtime = await loadOrtWeb(options.backend, options.wasmBaseUrl, options.threads);
    const setupMs = performance.now() - t0;
    const models: LoadedModel[] = [];
    for (const info of manifest.models) {
      progress(`loading ${info.name} (${(info.onnx.bytes / 1e6).toFixed(1)} MB)`);
      const f0 = performance.now();
      const bytes = await fetchVerified(options.demoBaseUrl, info.onnx);
      const f1 = performance.now();
      const session = await createWebSession(runtime, bytes);
      models.push({ info, session, fetchMs: f1 - f0, sessionMs: performance.now() - f1 });
    }
    return new DemoEngine(manifest, runtime, models, tokenizer, setupMs);
  }

  /** Classifies `text` with every model; the input stays set for `time`. */
  async classify(text: string): Promise<Classification> {
    const input = encodeFixedLength(this.tokenizer, text, this.manifest.sequenceLength);
    const { Tensor } = this.runtime.ort;
    const dims = [1, this.manifest.sequenceLength];
    const feeds: Record<string, Tensor> = {
      [INPUT_IDS]: new Tensor('int64', input.inputIds, dims),
      [ATTENTION_MASK]: new Tensor('int64', input.attentionMask, dims),
      [TOKEN_TYPE_IDS]: new Tensor('int64', input.tokenTypeIds, dims),
    };
    this.feeds = feeds;
    const predictions: Prediction[] = [];
    const firstRunMs: number[] = [];
    for (const model of this.models) {
      const t0 = performance.now();
      const output = (await model.session.run(feedsFor(model.session, feeds)))[LOGITS];
      firstRunMs.push(performance.now() - t0);
      if (output === undefined) throw new Error(`${model.info.name}: the graph has no "${LOGITS}" output`);
      predictions.push(predict(output.data as Float32Array, this.manifest.labels));
    }
    return { text, input, predictions, firstRunMs };
  }

  /** Times every model on the last classified input (see `timeInterleaved`). */
  time(options: Omit<Parameters<typeof timeInterleaved>[1], 'now'>): Promise<ModelTiming[] | null> {
    const feeds = this.feeds;
    if (feeds === undefined) throw new Error('classify a text before timing');
    return timeInterleaved(
      this.models.map((m) => {
        const modelFeeds = feedsFor(m.session, feeds);
        return { name: m.info.name, run: () => m.session.run(modelFeeds) };
      }),
      options,
    );
  }

  async release(): Promise<void> {
    for (const m of this.models) await m.session.release();
  }
}

/** The feeds a graph declares: a graph without token types (not BERT) must not be given them. */
function feedsFor(session: InferenceSession, feeds: Record<string, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const name of session.inputNames) {
    const tensor = feeds[name];
    if (tensor === undefined) throw new Error(`the graph wants an input "${name}" the demo does not make`);
    out[name] = tensor;
  }
  return out;
}
