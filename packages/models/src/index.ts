// @ziplm/models: BERT and GPT2 with a shape per layer. Each area has its own barrel.
export * from './errors.js';
export * from './config.js';
export * from './weights.js';
export * from './io/index.js';
export * from './tfjs/index.js';
export * from './tokenizers/index.js';
export * from './data/index.js';
export * from './onnx/index.js';
export * from './shrink.js';
