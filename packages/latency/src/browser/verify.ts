// "Verify in this browser": re-times pruned members against their dense model with onnxruntime-web in
// the page, as `ziplm verify` does with onnxruntime-node (paired rounds, the 95% interval of the
// speedup, pass / inconclusive / fail against target × (1 − tolerance), the same wording:
// measure/paired-speedup.ts). A run given a browser table searched with it but could not re-time its
// members (the Node process cannot time the browser); this is where they are re-timed.
//
// The graphs are files the visitor picked, so they are checked before any timing, where it is cheap:
// the `ziplm.graph` / `ziplm.config` metadata @ziplm/models writes into every export (read without
// decoding the weights) must say "a whole model" of the environment's mode and precision (the dense
// model FP32: the speedup's reference, guide: compound compression, apps/docs/guide/compound-compression.md),
// every member must be a model of the dense model's architecture, and of the table's model when a
// table is given. Once a session is open, a member's inputs must be the dense model's. Graphs without
// that metadata (exported by another tool) get the input check only.

import type { InferenceBackend, InferenceEnvironment, InferencePrecision } from '../environment.js';
import { environmentDifferences, precisionOf, validateEnvironment } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { readOnnxMetadata } from '../internal/onnx-metadata.js';
import type { PairedSpeedupTiming, VerificationReport, VerifyProgress } from '../measure/paired-speedup.js';
import { DEFAULT_VERIFY_TOLERANCE, MIN_VERIFY_ROUNDS, timePairedSpeedups, verificationReport } from '../measure/paired-speedup.js';
import { measureTimerResolution } from '../measure/protocol.js';
import type { EngineSession, InputInfo } from '../measure/runner.js';
import { predictRuntime, referenceTime } from '../runtime.js';
import type { LatencyTable, ModelShape } from '../table.js';
import type { OrtWebModule } from './ort-web.js';
import { createOrtWebRunner } from './ort-web.js';

/** One pruned member to re-time. */
export interface BrowserVerifyMember {
  /** Shown in reports and errors (e.g. the member's directory name, `ziplm-2.00x`). */
  readonly name: string;
  /** The speedup that was asked for. */
  readonly target: number;
  /** The member's ONNX bytes (its `model.onnx`). */
  readonly graph: Uint8Array;
  /**
   * The speedup the search predicted; default (with a table) the table's prediction for the member's
   * per-layer sizes, read from the graph's metadata.
   */
  readonly predicted?: number;
}

/** Options of `verifySpeedupsInBrowser`. */
export interface VerifyInBrowserOptions {
  /** The dense model's ONNX bytes (FP32): the speedup's reference. */
  readonly dense: Uint8Array;
  readonly members: readonly BrowserVerifyMember[];
  /**
   * The latency table the members were searched with (one measured in this browser): gives the
   * workload, the engine settings and the predictions. Without it, give `environment`.
   */
  readonly table?: LatencyTable;
  /**
   * The workload to time (mode, batch, lengths, precision, graph optimisation) when no table is given,
   * e.g. a plan manifest's `environment`; the engine settings are this page's (backend, threads).
   */
  readonly environment?: InferenceEnvironment;
  /** The `onnxruntime-web` module (`import * as ort from 'onnxruntime-web'`), its wasm paths set up by the page. */
  readonly ort: OrtWebModule;
  /** Default: the table's backend, else 'wasm'. */
  readonly backend?: InferenceBackend;
  /** wasm threads to ask for; default: the table's, else 1 (more than one needs a cross-origin-isolated page). */
  readonly threads?: number;
  /**
   * Back-to-back runs per timed sample; default 'auto' (chosen from the measured resolution of
   * `performance.now()`, as the table builder does; reported in `timer`).
   */
  readonly runsPerSample?: number | 'auto';
  /** Timing rounds, exactly (at least 6); default 20, then more until the speedup is precise, up to 100 (as `ziplm verify`). */
  readonly rounds?: number;
  /** Allowed shortfall of measured vs target speedup (relative); default 0.02. */
  readonly tolerance?: number;
  /** Untimed runs of every graph before the first round; default 3. */
  readonly warmupRuns?: number;
  /** Wall-clock budget (ms) after which no further adaptive rounds start; default unlimited. */
  readonly timeBudgetMs?: number;
  /** Seed of the inputs and of the round order; default 0. */
  readonly seed?: number;
  /** Vocabulary the token ids are drawn from; default the dense graph's (metadata), else the table's model's. */
  readonly vocabSize?: number;
  readonly onProgress?: (progress: VerifyProgress) => void;
  /** Clock in milliseconds; default `performance.now`. Injected by tests. */
  readonly clock?: () => number;
}

/** What re-timing one member in this browser found (the fields of `ziplm verify --json`, and the member's name, the environment and the timer). */
export interface BrowserVerificationReport extends VerificationReport {
  readonly name: string;
  /** The environment the graphs were timed in (engine onnxruntime-web, this page's backend and threads). */
  readonly environment: InferenceEnvironment;
  /** The clock's measured resolution and the back-to-back runs every timed sample spanned. */
  readonly timer: { readonly resolutionMs: number; readonly runsPerSample: number };
}

/** What the ziplm metadata of an exported graph says (absent fields: the graph did not say). */
interface GraphMetadata {
  /** `model` for a whole model; `attention` / `ffn` for a latency plan's block graphs. */
  readonly kind?: string;
  readonly mode?: string;
  readonly precision: InferencePrecision;
  /** The Hugging Face config (`ziplm.config`). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Per-layer sizes of a pruned model (the config's `ziplm` block). */
  readonly layerHeads?: readonly number[];
  readonly layerIntermediate?: readonly number[];
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCounts = (x: unknown): x is number[] => Array.isArray(x) && x.every((k) => Number.isInteger(k) && k >= 0);

/** The ziplm metadata of `bytes`, or undefined when it has none; MeasurementError when the bytes are not an ONNX model. */
function graphMetadata(bytes: Uint8Array, what: string): GraphMetadata | undefined {
  let metadata: Map<string, string>;
  try {
    metadata = readOnnxMetadata(bytes);
  } catch (err) {
    throw new MeasurementError(`${what} is not an ONNX model (${(err as Error).message})`, { cause: err });
  }
  const graphText = metadata.get('ziplm.graph');
  if (graphText === undefined) return undefined;
  const parse = (text: string, key: string): Record<string, unknown> => {
    try {
      const value: unknown = JSON.parse(text);
      if (isRecord(value)) return value;
    } catch {
      // reported below
    }
    throw new MeasurementError(`${what}: its "${key}" metadata is not a JSON object`);
  };
  const graph = parse(graphText, 'ziplm.graph');
  const configText = metadata.get('ziplm.config');
  const config = configText !== undefined ? parse(configText, 'ziplm.config') : undefined;
  const quantization = isRecord(graph.quantization) ? graph.quantization : undefined;
  const precision: InferencePrecision =
    quantization?.activations === 'dynamic' ? 'int8-dynamic' : quantization?.activations === 'static' ? 'int8-static' : 'fp32';
  const ziplm = config && isRecord(config.ziplm) ? config.ziplm : undefined;
  return {
    ...(typeof graph.kind === 'string' ? { kind: graph.kind } : {}),
    ...(typeof graph.mode === 'string' ? { mode: graph.mode } : {}),
    precision,
    ...(config ? { config } : {}),
    ...(ziplm && isCounts(ziplm.layer_heads) && isCounts(ziplm.layer_intermediate_sizes)
      ? { layerHeads: ziplm.layer_heads, layerIntermediate: ziplm.layer_intermediate_sizes }
      : {}),
  };
}

/**
 * The architecture a Hugging Face config describes, under each family's key names (BERT and LLaMA:
 * `hidden_size`…, GPT2: `n_embd`…, DistilBERT: `dim`…); a size the config does not state is absent.
 */
function architectureOf(config: Readonly<Record<string, unknown>>): Partial<Record<keyof ModelShape, string | number>> {
  const pick = (...keys: string[]) => {
    for (const key of keys) {
      const value = config[key];
      if (typeof value === 'number') return value;
    }
    return undefined;
  };
  const modelType = typeof config.model_type === 'string' ? config.model_type : undefined;
  const shape = {
    // DistilBERT is a BERT variant in ziplm's configs and tables.
    modelType: modelType === 'distilbert' ? 'bert' : modelType,
    hiddenSize: pick('hidden_size', 'n_embd', 'dim'),
    numHeads: pick('num_attention_heads', 'n_head', 'n_heads'),
    numKeyValueHeads: pick('num_key_value_heads'),
    intermediateSize: pick('intermediate_size', 'n_inner', 'hidden_dim'),
    numLayers: pick('num_hidden_layers', 'n_layer', 'n_layers'),
    vocabSize: pick('vocab_size'),
  };
  return Object.fromEntries(Object.entries(shape).filter(([, v]) => v !== undefined));
}

/** `field: a x, b y` for each field both architectures state and differ in. */
function architectureDifferences(
  a: Partial<Record<keyof ModelShape, string | number>>,
  b: Partial<Record<keyof ModelShape, string | number>>,
  labels: readonly [string, string],
): string[] {
  return (Object.keys(a) as Array<keyof ModelShape>)
    .filter((k) => b[k] !== undefined && a[k] !== b[k])
    .map((k) => `${k}: ${labels[0]} ${JSON.stringify(a[k])}, ${labels[1]} ${JSON.stringify(b[k])}`);
}

/** Refuses a graph whose metadata says it is not a whole model of this workload. */
function checkWorkload(meta: GraphMetadata, env: InferenceEnvironment, precision: InferencePrecision, what: string): void {
  if (meta.kind !== undefined && meta.kind !== 'model')
    throw new MeasurementError(`${what} is a single ${meta.kind} block graph (a latency plan's level), not a whole model`);
  const mode = env.mode === 'generation' ? 'decode' : 'full';
  if (meta.mode !== undefined && meta.mode !== mode)
    throw new MeasurementError(
      `${what} was exported in ${meta.mode} mode, but the ${env.mode} workload runs ${mode}-mode graphs` +
        (env.mode === 'generation' ? ' (one new token with a KV cache)' : ' (whole sequences)'),
    );
  if (meta.precision !== precision)
    throw new MeasurementError(`${what} is an ${meta.precision} graph, but this verification times ${precision} graphs here`);
}

/** The inputs a model takes besides its KV cache (which a member lacks for layers whose attention was removed). */
const nonCacheInputs = (inputs: readonly InputInfo[]) => inputs.filter((i) => !i.name.startsWith('past_'));
const describeInputs = (inputs: readonly InputInfo[]) => inputs.map((i) => `${i.name}: ${i.type}[${i.shape.length}]`).join(', ');

/**
 * Re-times pruned members against their dense model in this browser with onnxruntime-web: dense and
 * members in one interleaved protocol (the dense model every round), each member's speedup the
 * median of its per-round ratios with the dense model, judged by its 95% interval as `ziplm verify`
 * judges it. Holds the dense model and every member open at once: verify a few members at a time
 * on a large model.
 *
 * Throws MeasurementError, before any timing, for a graph of another workload (mode, precision, a
 * block graph), a member of another model than the dense one or the table's, a table measured with
 * other engine settings than this page's, or bad options; MeasurementError when onnxruntime-web fails.
 */
export async function verifySpeedupsInBrowser(options: VerifyInBrowserOptions): Promise<BrowserVerificationReport[]> {
  const { table, members } = options;
  if (members.length === 0) throw new MeasurementError('no members to verify');
  if ((table === undefined) === (options.environment === undefined))
    throw new MeasurementError('give either the latency table the members were searched with or the environment to time them in');
  const tolerance = options.tolerance ?? DEFAULT_VERIFY_TOLERANCE;
  if (!(tolerance >= 0 && tolerance < 1)) throw new MeasurementError(`tolerance must be in [0, 1), got ${tolerance}`);
  if (options.rounds !== undefined && !(Number.isInteger(options.rounds) && options.rounds >= MIN_VERIFY_ROUNDS))
    throw new MeasurementError(
      `rounds must be an integer >= ${MIN_VERIFY_ROUNDS} (the fewest rounds with a 95% interval of the speedup), got ${options.rounds}`,
    );
  const names = new Set<string>();
  for (const m of members) {
    if (names.has(m.name)) throw new MeasurementError(`two members are named "${m.name}"`);
    names.add(m.name);
    if (!(m.target > 0)) throw new MeasurementError(`member "${m.name}": target speedup must be > 0, got ${m.target}`);
  }

  // The engine settings are this page's; the workload is the table's (or the given environment's).
  const base = table?.environment ?? options.environment!;
  const runner = createOrtWebRunner({
    ort: options.ort,
    backend: options.backend ?? base.backend ?? 'wasm',
    threads: options.threads ?? (base.engine === 'onnxruntime-web' ? base.threads : 1),
  });
  const { backend: _backend, ...workload } = base;
  const env: InferenceEnvironment = { ...workload, engine: 'onnxruntime-web', backend: runner.backend, threads: runner.threads };
  validateEnvironment(env);
  if (table) {
    // Predictions from a table only hold in the environment it was measured in (as `ziplm verify`).
    const differs = environmentDifferences(table.environment, env, ['table', 'this page']);
    if (differs.length > 0) {
      const isolation =
        runner.threads < runner.web.requestedThreads
          ? `; this page is not cross-origin isolated, so onnxruntime-web runs on ${runner.threads} thread${runner.threads === 1 ? '' : 's'}: serve it with COOP/COEP headers`
          : '';
      throw new MeasurementError(`the latency table was measured in another environment (${differs.join('; ')})${isolation}`);
    }
  }

  // Cheap checks first: every graph's metadata against the workload, the dense model and the table.
  const dense = graphMetadata(options.dense, 'the dense model');
  if (dense) checkWorkload(dense, env, 'fp32', 'the dense model (the speedup reference, timed in FP32)');
  const denseArchitecture = dense?.config ? architectureOf(dense.config) : undefined;
  if (table && denseArchitecture) {
    const differs = architectureDifferences(denseArchitecture, table.model, ['dense model', 'table']);
    if (differs.length > 0) throw new MeasurementError(`the dense model is not the latency table's model (${differs.join('; ')})`);
  }
  const predictions = members.map((m) => {
    const what = `member "${m.name}"`;
    const meta = graphMetadata(m.graph, what);
    if (!meta) return m.predicted;
    checkWorkload(meta, env, precisionOf(env), what);
    if (denseArchitecture && meta.config) {
      const differs = architectureDifferences(architectureOf(meta.config), denseArchitecture, ['member', 'dense model']);
      if (differs.length > 0) throw new MeasurementError(`${what} is not a pruned copy of the dense model (${differs.join('; ')})`);
    }
    if (m.predicted !== undefined || !table) return m.predicted;
    // A member without per-layer sizes in its config is the dense shape.
    const L = table.model.numLayers;
    const shapes = {
      layerHeads: meta.layerHeads ?? new Array<number>(L).fill(table.model.numHeads),
      layerIntermediate: meta.layerIntermediate ?? new Array<number>(L).fill(table.model.intermediateSize),
    };
    try {
      return predictRuntime(table, shapes).speedup;
    } catch (err) {
      throw new MeasurementError(`${what} does not fit the latency table: ${(err as Error).message}`, { cause: err });
    }
  });
  const denseVocab = dense?.config?.vocab_size;
  const vocabSize = options.vocabSize ?? (typeof denseVocab === 'number' ? denseVocab : table?.model.vocabSize);
  if (!(Number.isInteger(vocabSize) && vocabSize! >= 1))
    throw new MeasurementError(
      'the vocabulary size the token ids are drawn from is unknown: give vocabSize (the dense graph has no ziplm metadata)',
    );

  let denseInputs: readonly InputInfo[] = [];
  const checkSession = (index: number, session: EngineSession) => {
    if (index < 0) {
      denseInputs = nonCacheInputs(session.inputs);
      return;
    }
    const inputs = nonCacheInputs(session.inputs);
    const same =
      inputs.length === denseInputs.length &&
      inputs.every((input, i) => {
        const d = denseInputs[i]!;
        return input.name === d.name && input.type === d.type && input.shape.length === d.shape.length;
      });
    if (!same)
      throw new MeasurementError(
        `member "${members[index]!.name}" takes the inputs (${describeInputs(inputs)}), the dense model (${describeInputs(denseInputs)}): a graph of another model or workload`,
      );
  };

  const runsPerSample = options.runsPerSample ?? 'auto';
  const timing: PairedSpeedupTiming = await timePairedSpeedups({
    runner,
    env,
    dense: { onnx: options.dense, vocabSize: vocabSize! },
    pruned: members.map((m) => ({ onnx: m.graph, vocabSize: vocabSize! })),
    runsPerSample,
    ...(options.rounds !== undefined ? { minRounds: options.rounds, maxRounds: options.rounds } : {}),
    ...(options.warmupRuns !== undefined ? { warmupRuns: options.warmupRuns } : {}),
    ...(options.timeBudgetMs !== undefined ? { timeBudgetMs: options.timeBudgetMs } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    checkSession,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const timer = { resolutionMs: timing.resolutionMs ?? measureTimerResolution(options.clock), runsPerSample: timing.runsPerSample };
  const denseDrift = table ? timing.dense.median / referenceTime(table) - 1 : undefined;
  return members.map((m, i) => {
    const predicted = predictions[i];
    return {
      name: m.name,
      ...verificationReport({
        target: m.target,
        ...(predicted !== undefined ? { predicted } : {}),
        tolerance,
        dense: timing.dense,
        speedup: timing.speedups[i]!,
        ...(denseDrift !== undefined ? { denseDrift } : {}),
        // A page cannot read the machine's load average.
        threads: env.threads,
      }),
      environment: env,
      timer,
    };
  });
}
