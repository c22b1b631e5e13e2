// Calibration: run the model once over the calibration sequences in onnxruntime and accumulate, for
// every prunable module, the Hessian of its output projection's input (docs site guide:
// apps/docs/guide/structured-obs.md, "The layer-wise problem"): the merged head outputs for attention,
// the FFN activations for FC2. Padding tokens are masked out of the Hessians (the reference includes them).

import { HessianAccumulator, type HessianStatistics, type MatMulEngine } from '@ziplm/hessian';
import {
  exportModelToOnnx,
  ONNX_NAMES,
  onnxFeeds,
  padBatch,
  prunableModules,
  type Checkpoint,
  type ModuleKind,
  type OrtTensorFactory,
} from '@ziplm/models';
import { createSession } from '@ziplm/onnx/runtime';
import type { InferenceSession } from 'onnxruntime-node';
import { DEFAULT_CALIBRATION_BATCH_SIZE } from '../defaults.js';
import type { TaskItem } from '../tasks/index.js';

/** Key of a module in the maps of calibration statistics: `<layer>:<module>`. */
export function moduleKey(layer: number, module: ModuleKind): string {
  return `${layer}:${module}`;
}

export interface CalibrationOptions {
  engine?: MatMulEngine;
  /** Sequences per onnxruntime run (default 16). */
  batchSize?: number;
  /** Only these modules (keys from `moduleKey`); default all. */
  only?: ReadonlySet<string>;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs `items` through the model and returns each module's Hessian statistics (H = 2/n Σ x xᵀ over
 * non-padding tokens, the input mean and n), keyed by {@link moduleKey}.
 */
export async function collectHessians(
  checkpoint: Checkpoint,
  items: readonly TaskItem[],
  padId: number,
  ort: OrtTensorFactory,
  options: CalibrationOptions = {},
): Promise<Map<string, HessianStatistics>> {
  const modules = prunableModules(checkpoint.config).filter((m) => !options.only || options.only.has(moduleKey(m.layer, m.module)));
  const result = new Map<string, HessianStatistics>();
  if (modules.length === 0) return result;
  const accumulators = new Map(
    modules.map((m) => [moduleKey(m.layer, m.module), new HessianAccumulator(m.width, { engine: options.engine })]),
  );
  const session: InferenceSession = await createSession(exportModelToOnnx(checkpoint, { moduleInputs: true }));
  try {
    const batchSize = options.batchSize ?? DEFAULT_CALIBRATION_BATCH_SIZE;
    const total = items.length;
    for (let start = 0; start < total; start += batchSize) {
      const batch = padBatch(items.slice(start, start + batchSize), { padId });
      const outputs = await session.run(onnxFeeds(ort, checkpoint.config, batch) as Parameters<InferenceSession['run']>[0]);
      const tokens = batch.batchSize * batch.seqLength;
      for (const m of modules) {
        const name = m.module === 'attention' ? ONNX_NAMES.attentionInput(m.layer) : ONNX_NAMES.ffnInput(m.layer);
        const data = outputs[name]!.data as Float32Array;
        await accumulators.get(moduleKey(m.layer, m.module))!.add(data, tokens, batch.attentionMask);
      }
      options.onProgress?.(Math.min(start + batchSize, total), total);
    }
  } finally {
    await session.release();
  }
  for (const [key, acc] of accumulators) result.set(key, await acc.finalize());
  return result;
}
