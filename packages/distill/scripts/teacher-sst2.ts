// Recipe: the SST-2 teacher, a small BERT sentence classifier trained from scratch.
//
//   pnpm --filter @ziplm/distill teacher:sst2            (resumes automatically if interrupted)
//
// 1. WordPiece vocabulary trained by @ziplm/models' trainer on the SST-2 training sentences only.
// 2. BERT (post-LN) with several layers and heads, FFN = 4 × hidden, random init (seeded).
// 3. Task loss only (there is no teacher for the teacher: λ1 = 1, λ2 = λ3 = 0), AdamW, linear warm-up and
//    decay, dropout 0.1, gradient clipping 1.0, length-bucketed batches.
// 4. Model selection on glue/sst2/train-holdout.tsv every `--eval-every` steps; the best model is evaluated
//    once on the official dev.tsv (the number the paper reports) and written, with its vocabulary and a
//    results.json, to packages/distill/teachers/sst2-bert.
// Training state goes to <repo>/runs/teachers/sst2-bert (git-ignored); rerunning the command resumes.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bertConfig,
  dataPath,
  GLUE_TASKS,
  hasData,
  initBackend,
  loadCheckpoint,
  loadModelDir,
  parameterCount,
  randomCheckpoint,
  readGlue,
  saveCheckpoint,
  trainWordPieceVocab,
  WordPieceTokenizer,
  createModel,
  type GlueExample,
} from '@ziplm/models';
import { evaluateClassification, fineTune, type TrainingExample } from '../src/index.js';
import { cliPath, defaultWorkDir, duration, log, parseArgs, progressLogger, writeJson } from './common.js';

const options = parseArgs({
  out: fileURLToPath(new URL('../teachers/sst2-bert', import.meta.url)),
  work: defaultWorkDir('sst2-bert'),
  vocabSize: 6000,
  hidden: 128,
  layers: 4,
  heads: 4,
  maxLength: 64,
  batchSize: 32,
  epochs: 3,
  maxSteps: 0,
  lr: 3e-4,
  warmupRatio: 0.06,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 500,
  logEvery: 50,
  /** Delete the training state and start over. */
  fresh: false,
});
const outDir = cliPath(options.out);
const workDir = cliPath(options.work);

const files = ['train.tsv', 'train-holdout.tsv', 'dev.tsv'].map((f) => join('glue', 'sst2', f));
if (!hasData(...files)) {
  console.error(`SST-2 not found under ${dataPath('glue', 'sst2')} (set ZIPLM_DATA_DIR)`);
  process.exit(1);
}
const started = performance.now();
const backend = await initBackend('wasm');
log(`backend ${backend.backend}: ${backend.reason}`);
if (options.fresh) await rm(workDir, { recursive: true, force: true });

const train = readGlue(dataPath('glue', 'sst2', 'train.tsv'), 'sst2');
const holdout = readGlue(dataPath('glue', 'sst2', 'train-holdout.tsv'), 'sst2');
const dev = readGlue(dataPath('glue', 'sst2', 'dev.tsv'), 'sst2');
log(`SST-2: ${train.length} train, ${holdout.length} holdout, ${dev.length} dev sentences`);

// The vocabulary comes from the training sentences alone (never from holdout or dev text).
let t0 = performance.now();
const vocab = trainWordPieceVocab(
  train.map((e) => e.textA),
  { vocabSize: options.vocabSize, lowercase: true },
);
const tokenizer = new WordPieceTokenizer({ vocab, lowercase: true });
log(`WordPiece vocabulary: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const encode = (examples: readonly GlueExample[]): TrainingExample[] =>
  examples.map((e) => {
    const enc = tokenizer.encode(e.textA, undefined, { maxLength: options.maxLength });
    return { inputIds: enc.ids, typeIds: enc.typeIds, label: e.label };
  });
t0 = performance.now();
const trainSet = encode(train);
const holdoutSet = encode(holdout);
const devSet = encode(dev);
const meanLength = trainSet.reduce((s, e) => s + e.inputIds.length, 0) / trainSet.length;
const unk = tokenizer.tokenToId('[UNK]');
const unkRate = devSet.reduce((s, e) => s + e.inputIds.filter((id) => id === unk).length, 0) / devSet.reduce((s, e) => s + e.inputIds.length, 0);
log(`tokenized in ${((performance.now() - t0) / 1000).toFixed(1)} s: mean train length ${meanLength.toFixed(1)} tokens, dev [UNK] rate ${(100 * unkRate).toFixed(2)}%`);

const config = bertConfig({
  vocabSize: tokenizer.vocabSize,
  hiddenSize: options.hidden,
  numLayers: options.layers,
  numHeads: options.heads,
  intermediateSize: 4 * options.hidden,
  maxPositions: 128,
  hiddenDropout: options.dropout,
  attentionDropout: options.dropout,
  padTokenId: tokenizer.padId,
  head: { type: 'classification', labels: [...GLUE_TASKS.sst2.labelNames] },
});
log(`BERT ${options.layers} layers × ${options.heads} heads (size ${options.hidden / options.heads}), hidden ${options.hidden}, FFN ${4 * options.hidden}: ${parameterCount(config)} parameters`);

const result = await fineTune({
  task: 'classification',
  student: randomCheckpoint(config, { seed: options.seed }),
  train: trainSet,
  batchSize: options.batchSize,
  epochs: options.epochs,
  ...(options.maxSteps > 0 ? { maxSteps: options.maxSteps } : {}),
  learningRate: options.lr,
  warmupRatio: options.warmupRatio,
  weightDecay: options.weightDecay,
  maxGradNorm: 1.0,
  weights: { task: 1, logit: 0, token: 0 },
  seed: options.seed,
  evaluate: async (model) => {
    const m = await evaluateClassification(model, holdoutSet, { batchSize: 64 });
    return { accuracy: m.accuracy, loss: m.loss };
  },
  evaluateEvery: options.evalEvery,
  selectMetric: 'accuracy',
  checkpointDir: workDir,
  tokenizer,
  onProgress: progressLogger(options.logEvery),
});
result.model.dispose();
log(`training done: ${result.step} steps, ${result.tokensSeen} tokens, ${duration(result.elapsedMs)} (all sessions, evaluation included)`);

// The best model on the holdout set, evaluated once on the official dev set.
const best = await loadCheckpoint(join(workDir, 'best'));
const model = createModel(best);
const devMetrics = await evaluateClassification(model, devSet, { batchSize: 64 });
const holdoutMetrics = await evaluateClassification(model, holdoutSet, { batchSize: 64 });
model.dispose();
log(`best model (step ${result.best!.step}): holdout accuracy ${holdoutMetrics.accuracy.toFixed(4)}, dev accuracy ${devMetrics.accuracy.toFixed(4)}`);

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await saveCheckpoint(outDir, best, { tokenizer });
await writeJson(join(outDir, 'results.json'), {
  recipe: 'pnpm --filter @ziplm/distill teacher:sst2',
  options: { ...options, out: undefined, work: undefined },
  data: { train: train.length, holdout: holdout.length, dev: dev.length, meanTrainTokens: Number(meanLength.toFixed(2)), devUnkRate: Number(unkRate.toFixed(5)) },
  model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize },
  backend: backend.backend,
  steps: result.step,
  bestStep: result.best!.step,
  tokensSeen: result.tokensSeen,
  metrics: {
    devAccuracy: devMetrics.accuracy,
    devLoss: devMetrics.loss,
    holdoutAccuracy: holdoutMetrics.accuracy,
  },
  history: result.history,
  trainingWallSeconds: Math.round(result.elapsedMs / 1000),
  thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
  note: 'Wall times measured on a shared 2-core machine while other jobs ran; treat them as indicative.',
});
// The committed teacher must load on its own.
const check = await loadModelDir(outDir);
log(`wrote ${outDir} (${check.tokenizer.vocabSize}-token vocabulary, ${parameterCount(check.checkpoint.config)} parameters)`);
