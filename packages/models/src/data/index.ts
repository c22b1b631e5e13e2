// Data readers of @ziplm/models: data directory, GLUE TSV, SQuAD v1.1 (+ run_qa preprocessing,
// post-processing and the official metric), WikiText perplexity chunks, and batching.
export * from './paths.js';
export * from './json.js';
export * from './glue.js';
export * from './squad.js';
export * from './wikitext.js';
export * from './batching.js';
export * from './samples.js';
