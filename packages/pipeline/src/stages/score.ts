// Scoring on the run's task: a graph (or a checkpoint, exported full-sequence) in an onnxruntime session.
// One place for it, used for the dense model, every member, and each step of compound compression.

import { exportModelToOnnx, type Checkpoint } from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import type { RunContext } from '../context.js';
import type { PreparedTask, ScoreProgress, Scores } from '../tasks/index.js';

/** Scores an ONNX graph on a task through onnxruntime; `onProgress` as in {@link PreparedTask.score}. */
export async function scoreGraph(onnx: Uint8Array, task: PreparedTask, dense?: Scores, onProgress?: ScoreProgress): Promise<Scores> {
  const ort = await loadOrt();
  const session = await createSession(onnx);
  try {
    return await task.score(session, ort, dense, onProgress);
  } finally {
    await session.release();
  }
}

/** Scores a checkpoint on a task through onnxruntime (full-sequence graph); `onProgress` as in {@link PreparedTask.score}. */
export async function scoreCheckpoint(
  checkpoint: Checkpoint,
  task: PreparedTask,
  dense?: Scores,
  onProgress?: ScoreProgress,
): Promise<Scores> {
  return scoreGraph(exportModelToOnnx(checkpoint), task, dense, onProgress);
}

/**
 * A member's scores on the run's task (undefined when the run does not evaluate): a checkpoint (exported
 * FP32) or the graph itself (a compound member's INT8 graph); progress goes to `stage`.
 */
export async function scoreMember(ctx: RunContext, model: Checkpoint | Uint8Array, stage: string): Promise<Scores | undefined> {
  if (!ctx.denseScores) return undefined;
  const onnx = model instanceof Uint8Array ? model : exportModelToOnnx(model);
  return scoreGraph(onnx, ctx.task, ctx.denseScores, (done, total) => ctx.emit({ kind: 'progress', stage, done, total }));
}
