// What a task is to a run: tokenized calibration and training sequences, and a scorer that runs a
// model's ONNX session. Built by the builders in builders.ts, from a preset (presets.ts) or the
// user's own data (custom.ts).

import type { InferenceSession } from 'onnxruntime-node';
import type { BatchItem } from '@ziplm/models/data';
import type { OrtTensorFactory } from '@ziplm/models/onnx';
import type { MetricInfo } from '../results.js';

/** The built-in tasks (presets of the same mechanism as the user's own data; docs site: guide/data.md). */
export type TaskName = 'sst2' | 'qnli' | 'wordorder' | 'squad' | 'wikitext' | 'samples';
export const TASK_NAMES: readonly TaskName[] = ['sst2', 'qnli', 'wordorder', 'squad', 'wikitext', 'samples'];

/** One tokenized sequence with what its metric needs. */
export interface TaskItem extends BatchItem {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
  /** Classification label (GLUE) or dense prediction (agreement). */
  readonly label?: number;
  /** Answer span in tokens (SQuAD training features). */
  readonly startPosition?: number;
  readonly endPosition?: number;
}

/** What a scored model produced, kept so that 'agreement' can compare a member with the dense model. */
export interface Scores {
  readonly metric: number;
  /** Predicted class per evaluation item (classification tasks). */
  readonly predictions?: Int32Array;
}

export interface PreparedTask {
  /** A preset's name, or the name a custom task was given (`--task-name`). */
  readonly name: string;
  /** Class names in id order (classification tasks): what the report and the CLI call each label. */
  readonly labels?: readonly string[];
  readonly metric: MetricInfo;
  /** Data files read (their hashes go into the manifest). */
  readonly files: readonly string[];
  /** Shown in the report. */
  readonly notes: readonly string[];
  /** Calibration sequences, in a fixed order (deterministic for the options). */
  readonly calibration: readonly TaskItem[];
  /** Gold labels of the evaluation items (classification with labels), for paired comparisons. */
  readonly evaluationLabels?: Int32Array;
  /** What fine-tuning optimises: @ziplm/distill's task kind. */
  readonly kind: 'classification' | 'span-qa' | 'causal-lm';
  /**
   * Training sequences for fine-tuning (gradual mode): the task's training split, shuffled with `seed`,
   * the first `limit` of them (all when absent).
   */
  training(limit?: number, seed?: number): TaskItem[];
  /**
   * Scores a model's ONNX session; `dense` is the dense model's scores (for 'agreement').
   * `onProgress` is called after each batch with the evaluation sequences done so far and their total.
   */
  score(session: InferenceSession, ort: OrtTensorFactory, dense?: Scores, onProgress?: ScoreProgress): Promise<Scores>;
  /**
   * The task loss on (a subset of) the calibration sequences: what SPDY minimises (guide/search.md,
   * the reference scores candidates by the calibration task loss). Items without a label use
   * `pseudoLabels` (the dense model's predictions, from a first call on the dense model).
   */
  calibrationLoss(session: InferenceSession, ort: OrtTensorFactory, pseudoLabels?: Int32Array): Promise<CalibrationLoss>;
}

/** Progress of scoring: evaluation sequences (SQuAD: features) done and in all. */
export type ScoreProgress = (done: number, total: number) => void;

export interface CalibrationLoss {
  /** Mean cross-entropy (nats). */
  readonly loss: number;
  /** Predicted label per loss item (start and end positions interleaved for span QA): pseudo-labels for members. */
  readonly predictions: Int32Array;
}

/** Calibration sequences the SPDY loss uses (the first ones of the calibration sample). */
export const LOSS_ITEMS = 1024;

export interface TaskOptions {
  /** Number of calibration sequences (default 512). */
  calibrationSamples?: number;
  /** Seed of the calibration sample (default 42, as the reference's `_dataloader_builder`). */
  seed?: number;
  /** Longest sequence (default min(128, maxPositions); SQuAD 384; WikiText chunks 128). */
  maxLength?: number;
  /** Evaluate on at most this many items (default: all). */
  evalLimit?: number;
  /** Sequences per onnxruntime run when scoring (default 32). */
  evalBatchSize?: number;
}
