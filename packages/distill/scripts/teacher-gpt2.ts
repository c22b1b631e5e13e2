// Recipe: the GPT2 teacher, a small causal LM trained from scratch on WikiText-2 text.
//
//   pnpm --filter @ziplm/distill teacher:gpt2            (resumes automatically if interrupted)
//
// Only wiki.test.raw is available, so it is split deterministically BY ARTICLE (an article starts at a
// top-level heading line " = Title = "): article k goes to the held-out set when k % 10 === 9, to training
// otherwise. No text of a held-out article is seen in training, the vocabulary included.
// 1. Byte-level BPE vocabulary trained by @ziplm/models' trainer on the training articles.
// 2. GPT2 (pre-LN, tied LM head) with several layers and heads, FFN = 4 × hidden, random init (seeded).
// 3. Causal LM loss (Table 7's GPT2 column: λ1 = 1, no distillation) on non-overlapping chunks of
//    `--seq` tokens of the training stream (articles joined by <|endoftext|>), AdamW, linear warm-up and
//    decay, dropout 0.1, gradient clipping 1.0.
// 4. Model selection on held-out perplexity over fixed-length chunks (method doc §8: exp of the mean token
//    NLL); the best model is written with its vocabulary and results.json to packages/distill/teachers/wikitext2-gpt2.
// Training state goes to <repo>/runs/teachers/wikitext2-gpt2 (git-ignored); rerunning the command resumes.

import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ByteLevelBpeTokenizer,
  chunkTokenIds,
  createModel,
  dataPath,
  gpt2Config,
  hasData,
  initBackend,
  loadCheckpoint,
  loadModelDir,
  parameterCount,
  randomCheckpoint,
  readWikiText,
  saveCheckpoint,
  trainByteLevelBpe,
} from '@ziplm/models';
import { evaluatePerplexity, fineTune, type TrainingExample } from '../src/index.js';
import { cliPath, defaultWorkDir, duration, log, parseArgs, progressLogger, writeJson } from './common.js';

const options = parseArgs({
  out: fileURLToPath(new URL('../teachers/wikitext2-gpt2', import.meta.url)),
  work: defaultWorkDir('wikitext2-gpt2'),
  vocabSize: 4096,
  hidden: 128,
  layers: 4,
  heads: 4,
  seq: 128,
  batchSize: 16,
  epochs: 8,
  maxSteps: 0,
  lr: 2e-3,
  warmupRatio: 0.05,
  weightDecay: 0.01,
  dropout: 0.1,
  seed: 0,
  evalEvery: 100,
  logEvery: 8,
  fresh: false,
});
const outDir = cliPath(options.out);
const workDir = cliPath(options.work);

const file = join('wikitext-2-raw', 'wiki.test.raw');
if (!hasData(file)) {
  console.error(`WikiText-2 not found: ${dataPath(file)} (set ZIPLM_DATA_DIR)`);
  process.exit(1);
}
const started = performance.now();
const backend = await initBackend('wasm');
log(`backend ${backend.backend}: ${backend.reason}`);
if (options.fresh) await rm(workDir, { recursive: true, force: true });

/** Articles of a WikiText raw file: each starts at a top-level heading " = Title = ". */
function splitArticles(text: string): string[] {
  const articles: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^ = [^=].* = $/.test(line)) articles.push([]);
    if (articles.length === 0) {
      if (line.trim() === '') continue;
      articles.push([]); // text before the first heading (none in wiki.test.raw) forms an article of its own
    }
    articles[articles.length - 1]!.push(line);
  }
  return articles.map((lines) => lines.join('\n'));
}

const articles = splitArticles(readWikiText(dataPath(file)));
const heldOutArticles = articles.filter((_, k) => k % 10 === 9);
const trainArticles = articles.filter((_, k) => k % 10 !== 9);
log(`WikiText-2 (wiki.test.raw): ${articles.length} articles, ${trainArticles.length} for training, ${heldOutArticles.length} held out`);

let t0 = performance.now();
const bpe = trainByteLevelBpe(trainArticles, { vocabSize: options.vocabSize });
const tokenizer = new ByteLevelBpeTokenizer({ vocab: bpe.vocab, merges: bpe.merges });
const eos = tokenizer.padId; // <|endoftext|>
log(`byte-level BPE: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

/** The articles as one id stream, separated by <|endoftext|>, cut into non-overlapping chunks. */
function chunks(texts: readonly string[]): TrainingExample[] {
  const ids: number[] = [];
  for (const text of texts) {
    for (const id of tokenizer.tokenize(text).ids) ids.push(id);
    ids.push(eos);
  }
  return chunkTokenIds(ids, options.seq).map((c) => ({ inputIds: Array.from(c) }));
}
t0 = performance.now();
const trainSet = chunks(trainArticles);
const heldOutSet = chunks(heldOutArticles);
log(`tokenized in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${trainSet.length} training and ${heldOutSet.length} held-out chunks of ${options.seq} tokens`);

const config = gpt2Config({
  vocabSize: tokenizer.vocabSize,
  hiddenSize: options.hidden,
  numLayers: options.layers,
  numHeads: options.heads,
  intermediateSize: 4 * options.hidden,
  maxPositions: options.seq,
  hiddenDropout: options.dropout,
  attentionDropout: options.dropout,
  bosTokenId: eos,
  eosTokenId: eos,
});
log(`GPT2 ${options.layers} layers × ${options.heads} heads (size ${options.hidden / options.heads}), hidden ${options.hidden}, FFN ${4 * options.hidden}: ${parameterCount(config)} parameters`);

const result = await fineTune({
  task: 'causal-lm',
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
    const m = await evaluatePerplexity(model, heldOutSet, { batchSize: 16 });
    return { perplexity: m.perplexity, loss: m.loss };
  },
  evaluateEvery: options.evalEvery,
  selectMetric: 'perplexity',
  higherIsBetter: false,
  checkpointDir: workDir,
  tokenizer,
  onProgress: progressLogger(options.logEvery),
});
result.model.dispose();
log(`training done: ${result.step} steps, ${result.tokensSeen} tokens, ${duration(result.elapsedMs)} (all sessions, evaluation included)`);

const best = await loadCheckpoint(join(workDir, 'best'));
const model = createModel(best);
const heldOut = await evaluatePerplexity(model, heldOutSet, { batchSize: 16 });
model.dispose();
log(`best model (step ${result.best!.step}): held-out perplexity ${heldOut.perplexity.toFixed(2)} over ${heldOut.tokens} predicted tokens`);

await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
await saveCheckpoint(outDir, best, { tokenizer });
await writeJson(join(outDir, 'results.json'), {
  recipe: 'pnpm --filter @ziplm/distill teacher:gpt2',
  options: { ...options, out: undefined, work: undefined },
  data: {
    articles: articles.length,
    trainArticles: trainArticles.length,
    heldOutArticles: heldOutArticles.length,
    split: 'article k is held out when k % 10 === 9 (articles start at top-level " = Title = " lines of wiki.test.raw)',
    trainChunks: trainSet.length,
    heldOutChunks: heldOutSet.length,
  },
  model: { parameters: parameterCount(config), vocabSize: tokenizer.vocabSize },
  backend: backend.backend,
  steps: result.step,
  bestStep: result.best!.step,
  tokensSeen: result.tokensSeen,
  metrics: { heldOutPerplexity: heldOut.perplexity, heldOutLoss: heldOut.loss, heldOutPredictedTokens: heldOut.tokens },
  history: result.history,
  trainingWallSeconds: Math.round(result.elapsedMs / 1000),
  thisSessionWallSeconds: Math.round((performance.now() - started) / 1000),
  note: 'Wall times measured on a shared 2-core machine while other jobs ran; treat them as indicative.',
});
const check = await loadModelDir(outDir);
log(`wrote ${outDir} (${check.tokenizer.vocabSize}-token vocabulary, ${parameterCount(check.checkpoint.config)} parameters)`);
