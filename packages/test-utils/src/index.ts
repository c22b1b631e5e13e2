// @ziplm/test-utils: private helpers of the workspace's tests and benchmarks. Source only, never
// published; packages list it as a devDependency.
export { expectArraysClose, maxAbsDiff, type NestedNumbers } from './arrays.js';
export { tinyBertOptions, tinyGpt2Options, trainableModelOptions, type TinyLayerShapes, type TinyModelOptions } from './configs.js';
export {
  CaseTimeoutError,
  corpusCases,
  expectTypedOutcome,
  formatReport,
  fuzzFormat,
  fuzzSettings,
  hostileJsonValue,
  isTypedZiplmError,
  mutatedBytes,
  mutatedJson,
  mutatedJsonBytes,
  mutatedText,
  UntypedOutcomeError,
  utf8,
  type CorpusCase,
  type FuzzFormatOptions,
  type FuzzReport,
  type FuzzSettings,
  type KnownFailure,
  type LengthField,
  type TypedOutcome,
} from './fuzz.js';
export { pythonWith, pythonWithOnnx } from './python.js';
export { int64Tensor, releasedAfterAll, type Int64TensorFactory, type ReleasableSession } from './onnxruntime.js';
// Packages that stay dependency-free (@ziplm/hessian, @ziplm/onnx) reach the shared generator through here
// in their tests and benchmarks.
export { seededRandom } from '@ziplm/core';
