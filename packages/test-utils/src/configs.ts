// Tiny model shapes for tests. These are plain options objects, not configs: the package under test
// builds them with its own `bertConfig` / `gpt2Config` (this package depends on no model code), e.g.
// `bertConfig({ ...tinyBertOptions(), head: { type: 'span-qa' } })`. Each call returns fresh arrays.

/** Shape options shared by the tiny BERT and GPT2 presets (a subset of @ziplm/models' config options). */
export interface TinyModelOptions {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly maxPositions: number;
}

/** Per-layer shapes of a pruned model. */
export interface TinyLayerShapes {
  readonly layerHeads: number[];
  readonly layerIntermediate: number[];
}

/**
 * A tiny BERT with heterogeneous layers: a partly pruned attention, a removed attention (layer 1), a
 * removed FFN (layer 2), a small FFN, so that every per-layer code path runs.
 */
export function tinyBertOptions(): TinyModelOptions & TinyLayerShapes & { readonly typeVocabSize: number; readonly layerNormEps: number } {
  return {
    vocabSize: 40,
    hiddenSize: 16,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 24,
    layerHeads: [4, 0, 2, 3],
    layerIntermediate: [24, 11, 0, 5],
    maxPositions: 12,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
  };
}

/** A tiny GPT2 with heterogeneous layers: a removed attention (layer 2) and a removed MLP (layer 0). */
export function tinyGpt2Options(): TinyModelOptions & TinyLayerShapes & { readonly bosTokenId: number; readonly eosTokenId: number } {
  return {
    vocabSize: 37,
    hiddenSize: 16,
    numLayers: 4,
    numHeads: 4,
    intermediateSize: 64,
    layerHeads: [4, 1, 0, 3],
    layerIntermediate: [0, 64, 13, 7],
    maxPositions: 12,
    bosTokenId: 36,
    eosTokenId: 36,
  };
}

/**
 * A small dense two-layer shape that trains in seconds (the distillation and gradient tests); spread
 * `layerHeads` / `layerIntermediate` over it for a pruned student.
 */
export function trainableModelOptions(): TinyModelOptions {
  return { vocabSize: 32, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxPositions: 16 };
}
