// The README's example: recover a (naively) pruned student of the committed SST-2 teacher with
// ZipLM's GLUE distillation recipe, then compare dev accuracies. A real run gets the student from the
// ZipLM solver; here the first heads and neurons of every layer are kept, which is enough to show the API.
//
//   pnpm exec tsx --conditions=@ziplm/source packages/distill/scripts/example.ts

import { createModel, dataPath, initBackend, loadModelDir, readGlue, shrinkWeights } from '@ziplm/models';
import { evaluateClassification, fineTune, lossWeightsFor, type TrainingExample } from '@ziplm/distill';
// Installed from npm this is `from '@ziplm/teachers'` (as the README shows). In the workspace @ziplm/distill does
// not depend on @ziplm/teachers (whose tests depend on @ziplm/distill), so the example reads its sources.
import { teacherDir } from '../../teachers/src/index.js';

await initBackend(); // tfjs-node when installed, else wasm (gradients registered either way)
const { checkpoint: teacherCheckpoint, tokenizer } = await loadModelDir(teacherDir('sst2-bert'));

// A student with half of the heads and a quarter of the FFN neurons of every layer.
const { numLayers, numHeads, intermediateSize } = teacherCheckpoint.config;
const student = shrinkWeights(teacherCheckpoint, {
  heads: Array.from({ length: numLayers }, () => Array.from({ length: numHeads / 2 }, (_, i) => i)),
  neurons: Array.from({ length: numLayers }, () => Array.from({ length: intermediateSize / 4 }, (_, i) => i)),
});

const encode = (file: string, limit: number): TrainingExample[] =>
  readGlue(dataPath('glue', 'sst2', file), 'sst2')
    .slice(0, limit)
    .map((e) => {
      const enc = tokenizer.encode(e.textA, undefined, { maxLength: 64 });
      return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
    });
const train = encode('train.tsv', 2048);
const dev = encode('dev.tsv', 872);

const teacher = createModel(teacherCheckpoint);
const before = createModel(student);
console.log('teacher dev accuracy       ', (await evaluateClassification(teacher, dev)).accuracy.toFixed(4));
console.log('pruned, before fine-tuning ', (await evaluateClassification(before, dev)).accuracy.toFixed(4));
before.dispose();

const result = await fineTune({
  task: 'classification',
  student,
  teacher, // inference only
  train,
  batchSize: 32,
  epochs: 1,
  learningRate: 8e-5 * 10, // Table 7's 8e-5 is for BERT-base; a model this small takes a larger step
  warmupRatio: 0.1,
  weightDecay: 0.03,
  weights: lossWeightsFor('glue'), // λ1 = 0, λ2 = 0.5, λ3 = 0.5 (Table 7)
  temperature: 2,
  onProgress: (e) => {
    if (e.type === 'step' && e.step % 16 === 0)
      console.log(
        `step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} (logit ${e.terms.logit?.toFixed(4)}, token ${e.terms.token?.toFixed(4)})`,
      );
  },
});
console.log('pruned, after distillation ', (await evaluateClassification(result.model, dev)).accuracy.toFixed(4));
result.model.dispose();
teacher.dispose();
