// @ziplm/latency: latency tables, the runtime model and the speedup-constrained search. This entry
// never loads onnxruntime; measuring tables and verifying speedups lives in `@ziplm/latency/measure`.
export * from './errors.js';
export * from './environment.js';
export * from './fingerprint.js';
export * from './stats.js';
export * from './table.js';
export * from './table-file.js';
export * from './runtime.js';
export * from './search.js';
export * from './spdy.js';
