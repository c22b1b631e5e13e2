// Learning-rate schedule of the paper's fine-tuning (Table 7, guide/distillation.md: "linear decay", with the usual
// linear warm-up of BERT fine-tuning).

import { TrainingConfigError } from './errors.js';

/** Options of {@link linearWarmupDecay}. */
export interface LinearScheduleOptions {
  /** Learning rate at the end of the warm-up. */
  readonly peakLr: number;
  /** Number of optimizer updates of the whole run. */
  readonly totalSteps: number;
  /** Updates of linear warm-up (default 0). */
  readonly warmupSteps?: number;
}

/**
 * Linear warm-up to `peakLr`, then linear decay towards 0 at `totalSteps`. `lr(step)` is the rate of the
 * update with 0-based index `step`:
 *
 *   step < W:  peakLr · (step + 1) / W
 *   step ≥ W:  peakLr · (N − step) / (N − W)
 *
 * Unlike HF's `get_linear_schedule_with_warmup`, whose first update uses lr 0 when W > 0, neither the first
 * nor the last update is wasted with a zero rate: the first warm-up update uses peakLr / W and the last
 * update peakLr / (N − W). Steps past N return 0.
 */
export function linearWarmupDecay(options: LinearScheduleOptions): (step: number) => number {
  const { peakLr, totalSteps } = options;
  const warmupSteps = options.warmupSteps ?? 0;
  if (!(peakLr >= 0) || !Number.isFinite(peakLr)) throw new TrainingConfigError('peakLr', `must be a finite number >= 0, got ${peakLr}`);
  if (!Number.isInteger(totalSteps) || totalSteps < 1)
    throw new TrainingConfigError('totalSteps', `must be an integer >= 1, got ${totalSteps}`);
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || warmupSteps >= totalSteps) {
    throw new TrainingConfigError('warmupSteps', `must be an integer in [0, totalSteps = ${totalSteps}), got ${warmupSteps}`);
  }
  return (step: number): number => {
    if (step < 0) return 0;
    if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
    if (step >= totalSteps) return 0;
    return (peakLr * (totalSteps - step)) / (totalSteps - warmupSteps);
  };
}
