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
  type ModelConfig,
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
  const outputName = (m: (typeof modules)[number]) =>
    m.module === 'attention' ? ONNX_NAMES.attentionInput(m.layer) : ONNX_NAMES.ffnInput(m.layer);
  const collected = await collectInputStatistics(
    exportModelToOnnx(checkpoint, { moduleInputs: true }),
    checkpoint.config,
    new Map(modules.map((m) => [outputName(m), m.width])),
    items,
    padId,
    ort,
    options,
  );
  for (const m of modules) result.set(moduleKey(m.layer, m.module), collected.get(outputName(m))!.statistics);
  return result;
}

/** What {@link collectInputStatistics} gathers for one graph output. */
export interface InputStatistics {
  readonly statistics: HessianStatistics;
  /** Smallest and largest value over the non-padding tokens (with `ranges`). */
  readonly range?: { readonly min: number; readonly max: number };
}

/**
 * The calibration pass every Hessian comes from: runs `items` through `onnx` (a graph of a model of
 * `config` that outputs the named inputs, [batch, sequence, width] each) in batches, and accumulates
 * each output's Hessian statistics over the non-padding tokens, and with `ranges` its range too.
 */
export async function collectInputStatistics(
  onnx: Uint8Array,
  config: ModelConfig,
  inputs: ReadonlyMap<string, number>,
  items: readonly TaskItem[],
  padId: number,
  ort: OrtTensorFactory,
  options: Omit<CalibrationOptions, 'only'> & { readonly ranges?: boolean } = {},
): Promise<Map<string, InputStatistics>> {
  const accumulators = new Map([...inputs].map(([name, width]) => [name, new HessianAccumulator(width, { engine: options.engine })]));
  const ranges = new Map([...inputs.keys()].map((name) => [name, { min: Infinity, max: -Infinity }]));
  const session: InferenceSession = await createSession(onnx);
  try {
    const batchSize = options.batchSize ?? DEFAULT_CALIBRATION_BATCH_SIZE;
    const total = items.length;
    for (let start = 0; start < total; start += batchSize) {
      const batch = padBatch(items.slice(start, start + batchSize), { padId });
      const outputs = await session.run(onnxFeeds(ort, config, batch) as Parameters<InferenceSession['run']>[0]);
      const tokens = batch.batchSize * batch.seqLength;
      for (const [name, width] of inputs) {
        const data = outputs[name]!.data as Float32Array;
        await accumulators.get(name)!.add(data, tokens, batch.attentionMask);
        if (options.ranges) widenRange(ranges.get(name)!, data, width, tokens, batch.attentionMask);
      }
      options.onProgress?.(Math.min(start + batchSize, total), total);
    }
  } finally {
    await session.release();
  }
  const result = new Map<string, InputStatistics>();
  for (const [name, accumulator] of accumulators) {
    result.set(name, { statistics: await accumulator.finalize(), ...(options.ranges ? { range: ranges.get(name)! } : {}) });
  }
  return result;
}

/** Widens `range` to the values of the counted tokens (`mask[t]` non-zero) of x, tokens × width. */
function widenRange(range: { min: number; max: number }, x: Float32Array, width: number, tokens: number, mask: ArrayLike<number>): void {
  for (let t = 0; t < tokens; t++) {
    if (!mask[t]) continue;
    for (let i = t * width; i < (t + 1) * width; i++) {
      const v = x[i]!;
      if (v < range.min) range.min = v;
      if (v > range.max) range.max = v;
    }
  }
}
