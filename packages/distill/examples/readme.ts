import { builtinModelDir, createModel, initBackend, loadModelDir, shrinkWeights } from '@ziplm/models';
import { evaluateClassification, fineTune, lossWeightsFor, type TrainingExample } from '@ziplm/distill';

await initBackend(); // tfjs-node when installed, else wasm (gradients registered either way)
// The teacher: @ziplm/models' built-in tiny BERT classifier (random weights; any BERT model directory works).
const { checkpoint: teacherCheckpoint, tokenizer } = await loadModelDir(builtinModelDir('tiny-bert'));

// A pruned student: in ZipLM it comes from the solver; here heads 0-2 and the first 96 FFN neurons are kept.
const student = shrinkWeights(teacherCheckpoint, {
  heads: teacherCheckpoint.config.layerHeads.map(() => [0, 1, 2]),
  neurons: teacherCheckpoint.config.layerIntermediate.map(() => Array.from({ length: 96 }, (_, i) => i)),
});

const labelled: [string, number][] = [
  ['a gripping , funny film', 1],
  ['dull and far too long', 0],
  ['a warm , moving story', 1],
  ['a lifeless mess', 0],
];
const train: TrainingExample[] = labelled.map(([text, label]) => {
  const enc = tokenizer.encode(text, undefined, { maxLength: 32 });
  return { inputIds: enc.ids, typeIds: enc.typeIds, label };
});

const teacher = createModel(teacherCheckpoint);
const result = await fineTune({
  task: 'classification',
  student,
  teacher, // inference only: no tape, no dropout
  train,
  batchSize: 2,
  epochs: 2,
  learningRate: 1e-3,
  weights: lossWeightsFor('glue'), // λ1 = 0, λ2 = 0.5, λ3 = 0.5 (Table 7)
  temperature: 2,
  onProgress: (e) => {
    if (e.type === 'step') console.log(`step ${e.step} loss ${e.loss.toFixed(4)}`);
  },
});
console.log('student accuracy on its training sentences:', (await evaluateClassification(result.model, train)).accuracy);
result.model.dispose();
teacher.dispose();
