// The defaults of a run, in one place: every `options.x ?? default` of the pipeline reads its default
// here. The fine-tuning defaults of gradual runs are the paper's Table 7 and live beside its loss
// weights in @ziplm/distill (TABLE7_FINE_TUNING_DEFAULTS).

import { isDecoder, type ModelConfig } from '@ziplm/models';

/** Allowed shortfall of a member's measured speedup against its target (`RunOptions.tolerance`). */
export const DEFAULT_TOLERANCE = 0.02;

/** Seed of the calibration sample and of the training order (42, as the reference's `_dataloader_builder`). */
export const DEFAULT_SEED = 42;

/** Seed of fine-tuning between gradual steps: data sample, order and dropout (`GradualFineTuneOptions.seed`). */
export const DEFAULT_FINE_TUNE_SEED = 0;

/** SPDY refinement of the search (`RunOptions.spdy`): random initialisations, refinement steps, seed. */
export const DEFAULT_SPDY: Readonly<{ randomInits: number; steps: number; seed: number }> = Object.freeze({
  randomInits: 10,
  steps: 10,
  seed: 0,
});

/** Rounds of re-searching members whose measured speedup misses the target (`RunOptions.retarget`). */
export const DEFAULT_RETARGET_ROUNDS = 2;

/**
 * Largest factor a re-search may scale the search target by, either way. A table off by more than
 * 25% on a member points at a disturbed measurement rather than at the table.
 */
export const MAX_RETARGET_CORRECTION = 1.25;

/** GEMM engine for Hessians and OBS (`RunOptions.engine`). */
export const DEFAULT_ENGINE = 'onnxruntime';

/** Calibration sequences of a task prepared on its own (`TaskOptions.calibrationSamples`). */
export const DEFAULT_TASK_CALIBRATION_SAMPLES = 512;

/** Calibration sequences per onnxruntime run when collecting Hessians. */
export const DEFAULT_CALIBRATION_BATCH_SIZE = 16;

/** Sequences per onnxruntime run when scoring, by what a task predicts (`TaskOptions.evalBatchSize`). */
export const DEFAULT_EVAL_BATCH_SIZE: Readonly<Record<'classification' | 'span-qa' | 'causal-lm', number>> = Object.freeze({
  classification: 32,
  'span-qa': 16,
  'causal-lm': 8,
});

/** Calibration sample sizes of a run (the paper's Table 7): 2048 sequences for BERT, 512 for GPT2 (and LLaMA, the other decoder). */
export function defaultCalibrationSamples(config: ModelConfig): number {
  return isDecoder(config) ? 512 : 2048;
}
