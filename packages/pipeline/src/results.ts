// What a run found, as plain data: written to `results.json` in the run directory, rendered into
// `report.md` and the SVG plots, and read back by `ziplm report`.

/** How a member was obtained (`"method"` in member.json and results.json). */
export type CompressionMethod =
  /** ZipLM: structured OBS database + latency-constrained DP search (docs site guide: apps/docs/guide/index.md). */
  | 'ziplm'
  /** Baseline: keep the structures with the largest L2 weight norm, no weight update; same table and search. */
  | 'magnitude'
  /** Baseline: the same head count and FFN size in every layer (OBS weights), the best such pair. */
  | 'uniform';

/** The task metric of a run. */
export interface MetricInfo {
  /** e.g. 'accuracy', 'f1', 'perplexity', 'agreement'. */
  readonly name: string;
  /** Human-readable label with its dataset, e.g. 'SST-2 dev accuracy (%)'. */
  readonly label: string;
  readonly higherIsBetter: boolean;
  /** Items the metric was measured on (classification accuracy: examples), for its 95% interval (Wilson). */
  readonly items?: number;
  /** The metric of a constant predictor (classification: the majority-class rate, %), to flag degenerate members. */
  readonly chance?: number;
}

/** One pruned model of a family. */
export interface MemberResult {
  readonly method: CompressionMethod;
  /**
   * A variant name when a run compares settings of the same method (e.g. 'no token distillation');
   * absent for the main setting.
   */
  readonly variant?: string;
  /** Speedup target (relative to the dense model). */
  readonly target: number;
  /** Speedup predicted by the latency table for the chosen levels. */
  readonly predictedSpeedup: number;
  /**
   * The speedup the search was asked for, when it differs from `target`: after a measured speedup
   * missed the target by more than the tolerance, the member was searched again with the search
   * target scaled by target / measured (one-shot `retarget`). Absent when it equals `target`.
   */
  readonly searchTarget?: number;
  /**
   * The other measured versions of this member, in the order they were tried: earlier versions a
   * re-search replaced, and re-searched versions measured no better (`discarded`), which were not kept.
   */
  readonly attempts?: readonly MemberAttempt[];
  /** Speedup measured by re-timing the exported model (absent when verification was skipped). */
  readonly measuredSpeedup?: number;
  /** measured / target − 1. */
  readonly deviation?: number;
  /**
   * The speedup verdict from the paired timing distribution: 'fail' only when the 95% interval of the
   * measured speedup lies below target × (1 − tolerance), 'inconclusive' when it straddles that bound,
   * 'pass' otherwise.
   */
  readonly status?: SpeedupStatus;
  /** Why the verdict is not a pass (the interval, the load average, the dense drift), for 'fail' and 'inconclusive'. */
  readonly statusReason?: string;
  /** Parameters of the whole member (embeddings and heads included). */
  readonly totalParameters?: number;
  /** Size of the member's model.onnx in bytes. */
  readonly onnxBytes?: number;
  /** What re-timing found besides the measured speedup (absent when verification was skipped, or in older runs). */
  readonly verification?: MemberVerification;
  /** Task metric of this member (absent when evaluation was skipped): of the shipped model (INT8 for a compound member). */
  readonly metric?: number;
  /** Compound compression (INT8, sparsity) on top of the structured member; absent in an FP32 run. */
  readonly compound?: CompoundResult;
  /** Sum of the chosen levels' layer-wise errors (the DP objective). */
  readonly searchError: number;
  /**
   * How the levels were chosen: the plain DP over layer-wise errors, or SPDY (guide/search.md), which
   * scores DP solutions by the calibration task loss; `plainLoss` is that loss for the plain DP
   * solution, `loss` for the chosen one.
   */
  readonly search?: {
    readonly procedure: 'dp' | 'spdy';
    readonly plainLoss?: number;
    readonly loss?: number;
    readonly evaluations?: number;
  };
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** Parameters of the encoder/decoder layers (embeddings and heads excluded), as in the paper's Table 6. */
  readonly layerParameters: number;
  /** Directory of the exported member, relative to the run directory. */
  readonly dir: string;
}

/**
 * What compound compression did to a member (guide/compound-compression.md): the structurally pruned
 * FP32 model, SparseGPT sparsity, INT8 weights by round-to-nearest and by GPTQ, and quantization-aware
 * fine-tuning, each scored on the task, and how small the shipped weights are.
 */
export interface CompoundResult {
  /** The shipped graph's number format (the run's environment). */
  readonly precision: 'int8-dynamic' | 'int8-static';
  /** How the shipped weights were rounded: 'qat' when quantization-aware fine-tuning ran (then rounded to its grid). */
  readonly shipped: 'gptq' | 'rtn' | 'qat';
  /** Fraction of the shipped quantized linears' weights that are 0: removed by SparseGPT, or rounded to 0 by the quantization. */
  readonly sparsity: number;
  /** Task metric at each step (absent when the run does not evaluate, or the step did not run). */
  readonly metrics: {
    readonly fp32?: number;
    readonly sparse?: number;
    readonly rtn?: number;
    readonly gptq?: number;
    readonly qat?: number;
  };
  /** Σ over the quantized linears of the layer-wise output error tr(ΔW H ΔWᵀ) of each step. */
  readonly errors: { readonly sparse?: number; readonly rtn: number; readonly gptq: number };
  /** Bytes of the quantized linears' weights: FP32 dense, INT8 dense, INT8 in a sparse format (bitmask + nonzero values + scales). */
  readonly weightBytes: { readonly fp32: number; readonly int8: number; readonly sparseInt8: number };
  /** Size of model.onnx compressed with gzip (level 9). */
  readonly onnxGzipBytes: number;
}

/**
 * Another measured version of a member (`MemberResult.attempts`): one that a re-search replaced, or a
 * re-searched version that was measured no better than the member and discarded.
 */
export interface MemberAttempt {
  readonly searchTarget: number;
  readonly predictedSpeedup: number;
  readonly measuredSpeedup: number;
  readonly layerHeads: readonly number[];
  readonly layerIntermediate: readonly number[];
  /** True for a re-searched version measured no better than the member (it was never written); absent for a replaced one. */
  readonly discarded?: true;
}

/** A speedup verdict (see `MemberResult.status`). */
export type SpeedupStatus = 'pass' | 'fail' | 'inconclusive';

/** Diagnostics of one member's verification (@ziplm/latency's VerificationReport, kept in the member record). */
export interface MemberVerification {
  /** Relative standard error of the measured speedup (from the per-round dense/member ratios). */
  readonly uncertainty: number;
  /** 95% interval of the measured speedup (from the per-round dense/member ratios); absent in older runs. */
  readonly interval?: readonly [number, number];
  /** measured / predicted − 1: how far the latency table's prediction is off for this member. */
  readonly predictionError?: number;
  /**
   * The dense model's median during verification / the latency table's dense median − 1: how far the
   * device drifted since the table was measured (a large drift makes predictions less trustworthy).
   */
  readonly denseDrift?: number;
  /** Median time of the dense model during verification (ms). */
  readonly denseMs: number;
  /** Median time of this member during verification (ms). */
  readonly memberMs: number;
  /** Timing rounds behind the medians. */
  readonly rounds: number;
}

/** The member record written beside the exported files. */
export interface MemberRecord extends MemberResult {
  readonly keptHeads: readonly (readonly number[])[];
  readonly keptNeurons: readonly (readonly number[])[];
  /** Predicted class per evaluation item (classification tasks), for paired comparisons. */
  readonly predictions?: readonly number[];
  /**
   * Size and sha256 of every file of the member directory but member.json (model.onnx,
   * model.safetensors, config.json, the vocabulary), by file name: a resumed run and `ziplm verify`
   * refuse a member whose files changed since they were written. Absent in records of older releases.
   */
  readonly files?: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
}

export interface RunResults {
  readonly format: 'ziplm-run-results';
  readonly version: 1;
  readonly mode: 'oneshot' | 'gradual';
  readonly task: string;
  /** The task's class names in id order (classification tasks). */
  readonly labels?: readonly string[];
  readonly metric: MetricInfo;
  readonly model: {
    readonly modelType: 'bert' | 'gpt2' | 'llama';
    /** The family's name (BERT, DistilBERT, GPT2, LLaMA); absent in results written before ziplm knew DistilBERT and LLaMA. */
    readonly family?: string;
    readonly numLayers: number;
    readonly hiddenSize: number;
    readonly numHeads: number;
    readonly intermediateSize: number;
    readonly layerParameters: number;
  };
  /** One line describing the inference environment of the latency table. */
  readonly environment: string;
  readonly dense: {
    readonly metric?: number;
    /** Median time of the dense model in the table's environment (ms): the FP32 model, the reference of every speedup. */
    readonly timeMs: number;
    /** Compound runs: the dense model in INT8, timed in the same table (timeMs / int8TimeMs is INT8's own speedup). */
    readonly int8TimeMs?: number;
  };
  readonly members: readonly MemberResult[];
  /** Notes the report should show (e.g. "no dataset found: metric is agreement on built-in text"). */
  readonly notes: readonly string[];
  /**
   * Paired comparisons on the same evaluation examples (classification tasks): for each target, a
   * method against the dense model and against the other methods, with McNemar's exact p-value.
   */
  readonly comparisons?: readonly Comparison[];
}

/** `method` vs `baseline` at one target, on the same evaluation examples. */
export interface Comparison {
  readonly target: number;
  readonly method: CompressionMethod;
  readonly variant?: string;
  /** 'dense', or another method at the same target. */
  readonly baseline: 'dense' | CompressionMethod;
  /** Examples only `method` gets right. */
  readonly wins: number;
  /** Examples only `baseline` gets right. */
  readonly losses: number;
  /** Two-sided exact McNemar p-value. */
  readonly pValue: number;
}
