import * as tf from '@tensorflow/tfjs-core';
import { builtinModelDir, createModel, initBackend, loadModelDir, saveCheckpoint, shrinkWeights } from '@ziplm/models';

console.log(await initBackend()); // { backend: 'wasm', reason: '@tensorflow/tfjs-node is not installed; wasm: SIMD on, 1 thread, ...' }
const { checkpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-bert'));
const enc = tokenizer.encode('a gripping , funny film');
const model = createModel(checkpoint);
const out = tf.tidy(() => model.forward({ inputIds: tf.tensor2d([enc.ids], [1, enc.ids.length], 'int32') }));
console.log(out.logits.arraySync(), out.hiddenStates.length); // [[negative, positive]] logits, numLayers + 1 states
tf.dispose(out);
model.dispose();
// Keep heads 0-2 and the first 96 FFN neurons of every layer; save a smaller Hugging Face checkpoint.
const keep = {
  heads: checkpoint.config.layerHeads.map(() => [0, 1, 2]),
  neurons: checkpoint.config.layerIntermediate.map(() => Array.from({ length: 96 }, (_, i) => i)),
};
await saveCheckpoint('out/tiny-bert-small', shrinkWeights(checkpoint, keep), { tokenizer });
