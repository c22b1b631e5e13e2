// @ziplm/latency/measure: measuring latency tables and verifying speedups on this device. The
// engine is injected (SessionRunner); onnxruntime-node is the default and is loaded lazily.
export * from './protocol.js';
export * from './runner.js';
export * from './ort.js';
export * from './build.js';
export * from './verify.js';
export * from './gc.js';
