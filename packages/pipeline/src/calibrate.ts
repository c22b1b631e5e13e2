// Calibration: run the model once over the calibration sequences in onnxruntime and accumulate, for
// every prunable module, the Hessian of its output projection's input (method doc §2.2): the merged
// head outputs for attention, the FFN activations for FC2. Padding tokens are masked out of the
// Hessians (the reference includes them, pitfall §10.3).

import { HessianAccumulator, type HessianStatistics, type MatMulEngine } from '@ziplm/hessian';
import { exportModelToOnnx, headDim, onnxFeeds, ONNX_NAMES, padBatch, type Checkpoint, type OrtTensorFactory } from '@ziplm/models';
import { createSession } from '@ziplm/onnx/runtime';
import type { InferenceSession } from 'onnxruntime-node';
import type { TaskItem } from './tasks.js';

export type ModuleKind = 'attention' | 'ffn';

/** Key of a module: `<layer>:<module>`. */
export function moduleKey(layer: number, module: ModuleKind): string {
  return `${layer}:${module}`;
}

/** The modules of a checkpoint that still exist (size > 0), in layer order, attention first. */
export function prunableModules(checkpoint: Checkpoint): Array<{ layer: number; module: ModuleKind; size: number; width: number }> {
  const { config } = checkpoint;
  const out: Array<{ layer: number; module: ModuleKind; size: number; width: number }> = [];
  for (let l = 0; l < config.numLayers; l++) {
    const heads = config.layerHeads[l]!;
    if (heads > 0) out.push({ layer: l, module: 'attention', size: heads, width: heads * headDim(config) });
    const neurons = config.layerIntermediate[l]!;
    if (neurons > 0) out.push({ layer: l, module: 'ffn', size: neurons, width: neurons });
  }
  return out;
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
 * non-padding tokens, the input mean and n).
 */
export async function collectHessians(
  checkpoint: Checkpoint,
  items: readonly TaskItem[],
  padId: number,
  ort: OrtTensorFactory,
  options: CalibrationOptions = {},
): Promise<Map<string, HessianStatistics>> {
  const modules = prunableModules(checkpoint).filter((m) => !options.only || options.only.has(moduleKey(m.layer, m.module)));
  const result = new Map<string, HessianStatistics>();
  if (modules.length === 0) return result;
  const accumulators = new Map(modules.map((m) => [moduleKey(m.layer, m.module), new HessianAccumulator(m.width, { engine: options.engine })]));
  const session: InferenceSession = await createSession(exportModelToOnnx(checkpoint, { moduleInputs: true }));
  try {
    const batchSize = options.batchSize ?? 16;
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
