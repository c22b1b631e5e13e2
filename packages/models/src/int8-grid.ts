// The symmetric INT8 weight grid that every INT8 path of ziplm rounds to: the INT8 export (weights not
// supplied are rounded here) and quantization-aware fine-tuning (@ziplm/distill trains on this grid). Both
// must round bit for bit alike, so that a model trained on the grid exports to exactly the values it was
// trained with. @ziplm/hessian's `quantizeRtn` (a package without dependencies) does the same arithmetic.

/** The largest integer of the grid: weights are q ∈ [−127, 127] (symmetric, as onnxruntime's int8 weights). */
export const INT8_WEIGHT_MAX = 127;

/** The scale of a channel whose largest |w| is `maxAbs`: maxAbs / 127 in float32, 1 for a channel of zeros (so 0 stays 0). */
export function int8WeightScale(maxAbs: number): number {
  return maxAbs > 0 ? Math.fround(maxAbs / INT8_WEIGHT_MAX) : 1;
}

/** `w`'s integer on the grid of `scale`: clamp(round(w / scale), −127, 127). */
export function roundToInt8(w: number, scale: number): number {
  return Math.max(-INT8_WEIGHT_MAX, Math.min(INT8_WEIGHT_MAX, Math.round(w / scale)));
}
