// @ziplm/core: the primitives several ziplm packages share, each written once. This entry is
// platform-neutral (no node:* imports, runs in a browser); the Node-only file helpers are in
// `@ziplm/core/node`. Only the names listed here are public.

// seeded random numbers
export { mixSeed, SeededRng, seededRandom, splitmix32, xorshift32 } from './random.js';
export type { SeededRngState } from './random.js';

// robust statistics and comparisons
export { median, medianAbsoluteDeviation, quantile, wilsonInterval } from './stats.js';
export { maxAbsDiff } from './compare.js';

// the tiled transpose
export { transpose, transposed } from './transpose.js';
export type { FloatArray, TransposeLayout } from './transpose.js';
