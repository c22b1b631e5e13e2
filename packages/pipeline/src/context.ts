// The types every stage of a run shares: the options a run takes, its progress events, and the
// context loaded once when a run opens. A leaf module (types only), so that the stages under
// stages/ and the run modes can all depend on it without depending on each other.

import type { MatMulEngine } from '@ziplm/hessian';
import type { InferenceEnvironment, InferenceEnvironmentOptions, LatencyTable } from '@ziplm/latency';
import type { Checkpoint, Tokenizer } from '@ziplm/models';
import type { RunDirectory, RunIdentity } from './internal/run-dir.js';
import type { MemberResult } from './results.js';
import type { PreparedTask, Scores, TaskChoice } from './tasks/index.js';

/** Progress of a pipeline run, for a CLI or a UI. */
export type PipelineEvent =
  | { readonly kind: 'stage'; readonly stage: string; readonly message: string }
  | { readonly kind: 'progress'; readonly stage: string; readonly done: number; readonly total: number }
  | { readonly kind: 'warning'; readonly message: string }
  /** A finished member; `resumed` when an earlier attempt finished it and it was read back from the run directory. */
  | { readonly kind: 'member'; readonly member: MemberResult; readonly resumed?: boolean };

/** Where a run's events go. */
export type EmitEvent = (event: PipelineEvent) => void;

/**
 * SPDY settings (docs site guide: apps/docs/guide/search.md, "SPDY"); `false` means the plain DP.
 * Unset fields take the defaults of `DEFAULT_SPDY` (defaults.ts).
 */
export type SpdySettings = false | { randomInits?: number; steps?: number; seed?: number };

/** The GEMM engine for Hessians and OBS: onnxruntime or plain TypeScript. */
export type EngineKind = 'onnxruntime' | 'js';

/**
 * Compound compression of every member (docs site guide: apps/docs/guide/compound-compression.md):
 * INT8 weights (and activations) on top of structured pruning, optionally with unstructured sparsity
 * and quantization-aware fine-tuning. Speedup targets then count from the dense FP32 model.
 */
export interface CompoundOptions {
  /** The number format of the shipped graphs (only INT8 exists). */
  quantize: 'int8';
  /** How the weights are rounded: GPTQ (OBS, default) or round-to-nearest. */
  method?: 'gptq' | 'rtn';
  /** Activations quantized per batch at run time ('dynamic', default) or from calibrated ranges ('static'). */
  activations?: 'dynamic' | 'static';
  /** Fraction of every quantized linear's weights set to 0 by SparseGPT before quantizing; default 0. */
  sparsity?: number;
  /** Epochs of quantization-aware fine-tuning after GPTQ (gradual runs, which have the training data); default 0. */
  qatEpochs?: number;
}

/** `CompoundOptions` with every default filled in, as a run uses them. */
export interface CompoundSettings {
  readonly method: 'gptq' | 'rtn';
  readonly activations: 'dynamic' | 'static';
  readonly sparsity: number;
  readonly qatEpochs: number;
}

/** Options every run takes. Defaults not stated here are in defaults.ts. */
export interface RunOptions {
  /** Model directory (config.json, model.safetensors, vocabulary): the dense model. */
  modelDir: string;
  /** Run directory (created; resumed when it exists for the same model and settings). */
  runDir: string;
  /** Speedup targets relative to the dense model. */
  targets: readonly number[];
  /**
   * A built-in task, or a spec of data files (the user's own data; docs site: guide/data-formats.md).
   * Default: the model's natural dataset when present (SST-2, WikiText, SQuAD), else the built-in samples.
   */
  task?: TaskChoice;
  /** The inference environment the speedups are for (default: latency mode, batch 1, sequence 128). */
  environment?: InferenceEnvironmentOptions;
  /** Use this latency table instead of measuring one (it is copied into the run directory). */
  tablePath?: string;
  /** Calibration sequences (default: the paper's Table 7, 2048 for BERT, 512 for GPT2) and the seed of their sample (default 42). */
  calibrationSamples?: number;
  seed?: number;
  /**
   * SPDY refinement of the search (the reference's one-shot default): DP solutions for random
   * per-module error coefficients are scored by the calibration task loss of the stitched model and
   * the best is kept. `false` uses the plain DP. Default { randomInits: 10, steps: 10 }.
   */
  spdy?: SpdySettings;
  /** Score every member on the task (default true). */
  evaluate?: boolean;
  /** Score on at most this many evaluation items (default: all). */
  evalLimit?: number;
  /** Re-time every member against the dense model (default true). */
  verify?: boolean;
  /** Allowed shortfall of measured vs target speedup (default 0.02). */
  tolerance?: number;
  /**
   * One-shot only: rounds of re-searching members whose measured speedup is off the target by more
   * than the tolerance, with the search target scaled by target / measured (default 2; 0 = never).
   * Needs `verify`.
   */
  retarget?: number;
  /** GEMM engine for Hessians and OBS (default onnxruntime). */
  engine?: EngineKind;
  /** Compound compression of every member (INT8, sparsity); absent: FP32 members. */
  compound?: CompoundOptions;
  /** Latency table protocol overrides (tests use fewer rounds). */
  tableRounds?: { minRounds?: number; maxRounds?: number };
  onEvent?: EmitEvent;
}

/** Everything loaded once per run. */
export interface RunContext {
  readonly run: RunDirectory;
  readonly identity: RunIdentity;
  readonly dense: Checkpoint;
  readonly tokenizer: Tokenizer;
  readonly task: PreparedTask;
  readonly env: InferenceEnvironment;
  readonly table: LatencyTable;
  readonly engine: MatMulEngine;
  readonly targets: number[];
  readonly spdy: SpdySettings;
  /** Compound compression settings (absent in an FP32 run); the environment's precision is INT8 when present. */
  readonly compound?: CompoundSettings;
  /** The dense model's scores (when evaluating). */
  readonly denseScores?: Scores;
  readonly emit: EmitEvent;
  /** The dense model's predictions on the SPDY loss items (labels where the task has none). */
  densePredictions(): Promise<Int32Array>;
}
