// The interface of every graph ziplm exports: input and output names and the symbolic dimensions. A
// module of its own so that feeding a model (run.ts) or reading its outputs needs none of the exporter.

/** Symbolic dimension names of the exported graphs. */
export const ONNX_DIMS = {
  batch: 'batch',
  /** Tokens of this call (in decode mode usually 1). */
  sequence: 'sequence',
  /** Tokens already in the KV cache (decode mode). */
  past: 'past_sequence',
  /** past + new tokens: the attention mask's and the present cache's length (decode mode). */
  total: 'total_sequence',
} as const;

/** Which input of a layer's quantizable linears a `matmulInput` name is. */
export type LinearInputSlot = 'qkv' | 'attention_output' | 'fc1' | 'fc2';

/** Input and output names of the exported graphs. */
export const ONNX_NAMES = {
  /** Model inputs, int64 [batch, sequence] (decode: attention_mask is [batch, total_sequence]). */
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  /** BERT only. */
  tokenTypeIds: 'token_type_ids',
  /** Model output (shape per head: see `exportModelToOnnx`). */
  logits: 'logits',
  hiddenState: (i: number) => `hidden_state_${i}`,
  /** Calibration outputs (`moduleInputs`): inputs of the attention output projection and of FC2. */
  attentionInput: (layer: number) => `attention_input_${layer}`,
  ffnInput: (layer: number) => `ffn_input_${layer}`,
  /**
   * Calibration outputs (`matmulInputs`) and the keys of static activation ranges: the input of one
   * quantizable linear of layer l, float32 [batch, sequence, in]. 'qkv' is shared by BERT's Q, K and V
   * (GPT2's c_attn), 'attention_output' is the output projection's (equal to `attentionInput`), 'fc1'
   * and 'fc2' the FFN's (fc2's equal to `ffnInput`).
   */
  matmulInput: (layer: number, linear: LinearInputSlot) => `matmul_input_${layer}_${linear}`,
  /** Decode-mode cache of layer l (only layers that keep attention), [batch, heads_l, past|total, headDim]. */
  pastKey: (layer: number) => `past_key_${layer}`,
  pastValue: (layer: number) => `past_value_${layer}`,
  presentKey: (layer: number) => `present_key_${layer}`,
  presentValue: (layer: number) => `present_value_${layer}`,
  /** Block input and output, float32 [batch, sequence, hidden]; attention blocks also take attention_mask. */
  blockInput: 'hidden_states',
  blockOutput: 'output',
  /** Decode-mode attention block cache, [batch, heads, past|total, headDim]. */
  blockPastKey: 'past_key',
  blockPastValue: 'past_value',
  blockPresentKey: 'present_key',
  blockPresentValue: 'present_value',
} as const;

/**
 * Symbolic dimension names of the Optimum signature (`signature: 'optimum'`), as Optimum's decoder exports
 * name them. They matter beyond looks: transformers.js sizes the empty cache of the first `generate()` step
 * from the graph's input metadata, resolving `batch_size` to the batch and every other symbolic dim to 0.
 */
export const OPTIMUM_DIMS = {
  batch: 'batch_size',
  sequence: 'sequence_length',
  past: 'past_sequence_length',
  total: 'past_sequence_length + sequence_length',
} as const;

/**
 * Input and output names of the Optimum signature (`exportModelToOnnx` with mode 'decode' and `signature:
 * 'optimum'`): the decoder-with-past graph of Optimum and transformers.js. `input_ids`, `attention_mask`
 * and `logits` are `ONNX_NAMES`'; the cache of layer l (only layers that keep attention) is
 * `past_key_values.{l}.key/value` in and `present.{l}.key/value` out, the names transformers.js' generate()
 * feeds back (it renames `present` to `past_key_values`).
 */
export const OPTIMUM_NAMES = {
  /** int64 [batch, sequence]: each new token's position (transformers.js: cumsum(attention_mask) − 1). */
  positionIds: 'position_ids',
  pastKey: (layer: number) => `past_key_values.${layer}.key`,
  pastValue: (layer: number) => `past_key_values.${layer}.value`,
  presentKey: (layer: number) => `present.${layer}.key`,
  presentValue: (layer: number) => `present.${layer}.value`,
} as const;
