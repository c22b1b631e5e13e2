// Tutorial 9 (tutorials/transformers-js.md): the dense model and two pruned members, loaded by transformers.js
// exactly as any transformers.js model is, classify the same sentences. Run it with Node in the directory that
// holds distilbert-sst2/ and runs/ (the commands of tutorials/transformers-js.sh made them), in a project with
// @huggingface/transformers installed: `node transformers-js.mjs`. It prints one JSON line per model;
// apps/docs/test/e2e/transformers-js.test.ts runs it and checks every label against onnxruntime-node.

// #region load
import { env, pipeline } from '@huggingface/transformers';

// Everything is local: never download from the Hugging Face Hub; model names are paths below this directory.
env.allowRemoteModels = false;
env.localModelPath = process.cwd();

const models = {
  // The model as downloaded: onnx/model.onnx.
  dense: await pipeline('text-classification', 'distilbert-sst2', { dtype: 'fp32' }),
  // A ziplm member is a transformers.js model directory too: same code, smaller graph.
  'ziplm 2x': await pipeline('text-classification', 'runs/distilbert/members/ziplm-2.00x', { dtype: 'fp32' }),
  // An INT8 member: dtype 'q8' loads its onnx/model_quantized.onnx, the graph ziplm timed.
  'ziplm 3x int8': await pipeline('text-classification', 'runs/distilbert-int8/members/ziplm-3.00x', { dtype: 'q8' }),
};
// #endregion load

// #region classify
const sentences = ['A warm, funny film.', 'The acting was bleak and the plot slow.', 'Hello world!'];
for (const [name, classify] of Object.entries(models)) {
  await classify(sentences); // warm-up: the first call also initialises the session
  const started = performance.now();
  const predictions = await classify(sentences);
  const ms = performance.now() - started;
  const labels = predictions.map((p) => p.label);
  console.log(JSON.stringify({ model: name, labels, scores: predictions.map((p) => p.score), ms }));
}
// #endregion classify
