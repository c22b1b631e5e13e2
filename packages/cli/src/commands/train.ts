// `ziplm train`: the teacher recipes of @ziplm/distill (trainSst2Teacher, trainWordOrderTeacher, trainGpt2Teacher). The committed
// teachers were trained with the defaults; a rerun with the same flags resumes from the state directory.

import { resolve } from 'node:path';
import {
  GPT2_TEACHER_DEFAULTS,
  RECIPES,
  SST2_TEACHER_DEFAULTS,
  trainGpt2Teacher,
  trainSst2Teacher,
  trainWordOrderTeacher,
  WORDORDER_TEACHER_DEFAULTS,
  type Gpt2TeacherOptions,
  type ProgressEvent,
  type RecipeName,
  type Sst2TeacherOptions,
  type TeacherResultsCommon,
  type WordOrderTeacherOptions,
} from '@ziplm/distill';
import { defineCommand, type OptionsFor, UsageError } from '../command.js';
import { progressReporter } from '../progress.js';
import { applyInputLimits, INPUT_OPTIONS } from './shared.js';

type SharedDefault =
  | 'epochs'
  | 'lr'
  | 'warmupRatio'
  | 'weightDecay'
  | 'dropout'
  | 'batchSize'
  | 'seed'
  | 'evalEvery'
  | 'vocabSize'
  | 'hidden'
  | 'layers'
  | 'heads';
/** "(default: X for sst2-bert, Y for wordorder-bert, Z for wikitext2-gpt2)", or one value when the recipes agree. */
const both = (key: SharedDefault) => {
  const values = [SST2_TEACHER_DEFAULTS[key], WORDORDER_TEACHER_DEFAULTS[key], GPT2_TEACHER_DEFAULTS[key]];
  if (values.every((v) => v === values[0])) return `(default: ${values[0]})`;
  return `(default: ${values[0]} for sst2-bert, ${values[1]} for wordorder-bert, ${values[2]} for wikitext2-gpt2)`;
};

/**
 * The flags, checked against the recipe options of the same name (`--epochs`, `--backend`, ...), which
 * both recipes share. `--out`, `--work` and `--max-train` are renamed on the way (outDir, workDir,
 * maxTrainExamples or maxTrainArticles).
 */
const TRAIN_OPTIONS = {
  out: { type: 'string', description: 'Model directory to write (default: runs/train/<recipe>/model)', valueName: 'DIR' },
  work: { type: 'string', description: 'Resumable training state (default: runs/train/<recipe>/state)', valueName: 'DIR' },
  dataDir: {
    type: 'string',
    description: 'Data directory (default: $ZIPLM_DATA_DIR, else ../shared/data beside the repository)',
    valueName: 'DIR',
  },
  fresh: { type: 'boolean', description: 'Delete the training state and start over instead of resuming', default: false },
  epochs: { type: 'number', description: `Epochs over the training set ${both('epochs')}`, valueName: 'N' },
  maxSteps: { type: 'number', description: 'Stop after N optimizer updates (overrides --epochs)', valueName: 'N' },
  maxTrain: {
    type: 'number',
    description: 'Train on the first N training sentences (sst2-bert, wordorder-bert) or articles (wikitext2-gpt2); default: all',
    valueName: 'N',
  },
  lr: { type: 'number', description: `Peak learning rate, linear warm-up and decay ${both('lr')}`, valueName: 'X' },
  warmupRatio: {
    type: 'number',
    description: `Warm-up as a fraction of the updates ${both('warmupRatio')}`,
    valueName: 'X',
  },
  weightDecay: { type: 'number', description: `Decoupled weight decay ${both('weightDecay')}`, valueName: 'X' },
  dropout: { type: 'number', description: `Hidden and attention dropout ${both('dropout')}`, valueName: 'X' },
  batchSize: { type: 'number', description: `Sequences per update ${both('batchSize')}`, valueName: 'N' },
  seed: { type: 'number', description: `Seed of the initial weights, data order and dropout ${both('seed')}`, valueName: 'N' },
  evalEvery: {
    type: 'number',
    description: `Evaluate and keep the best model every N updates ${both('evalEvery')}`,
    valueName: 'N',
  },
  vocabSize: { type: 'number', description: `Tokenizer vocabulary size ${both('vocabSize')}`, valueName: 'N' },
  hidden: { type: 'number', description: `Hidden size; the FFN is 4x ${both('hidden')}`, valueName: 'N' },
  layers: { type: 'number', description: `Transformer layers ${both('layers')}`, valueName: 'N' },
  heads: { type: 'number', description: `Attention heads per layer ${both('heads')}`, valueName: 'N' },
  maxLength: {
    type: 'number',
    description: `sst2-bert and wordorder-bert: tokens per sentence (default: ${SST2_TEACHER_DEFAULTS.maxLength})`,
    valueName: 'N',
  },
  seq: {
    type: 'number',
    description: `wikitext2-gpt2: tokens per training chunk and model positions (default: ${GPT2_TEACHER_DEFAULTS.seq})`,
    valueName: 'N',
  },
  backend: {
    type: 'string',
    description: 'TensorFlow.js backend to train on ($ZIPLM_BACKEND overrides it)',
    choices: ['wasm', 'cpu', 'node'],
    default: 'wasm',
  },
  ...INPUT_OPTIONS,
  json: { type: 'boolean', description: 'Print the results record (results.json, with outDir and workDir) as JSON', default: false },
} as const satisfies OptionsFor<Sst2TeacherOptions & Gpt2TeacherOptions>;

function isRecipe(name: string): name is RecipeName {
  return RECIPES.some((recipe) => recipe === name);
}

export const trainCommand = defineCommand({
  name: 'train',
  summary:
    'Train a teacher from scratch with one of the recipes: sst2-bert (BERT on SST-2), wordorder-bert (BERT on word order) or wikitext2-gpt2 (GPT2 on WikiText-2)',
  description:
    'Runs a teacher recipe of @ziplm/distill. `sst2-bert`: a WordPiece vocabulary and a small BERT classifier trained on ' +
    'glue/sst2/train.tsv, selected on train-holdout.tsv, scored on the official dev.tsv. `wordorder-bert`: the BERT testbed ' +
    'whose layers matter, trained to tell real sentences from ones with their words shuffled (SST-2, WikiText-2 and ' +
    'SQuAD text; held-out WikiText-2 and SQuAD articles for scoring); its results.json records the no-attention, no-FFN ' +
    'and bag-of-words ablation. `wikitext2-gpt2`: a byte-level BPE ' +
    'vocabulary and a small GPT2 trained on wikitext-2-raw/wiki.test.raw split by article (every tenth article held out), ' +
    'selected and scored on held-out perplexity. The data are read from --data-dir, else $ZIPLM_DATA_DIR, else ' +
    '../shared/data beside the repository; a missing file exits with code 3 and names it. The defaults are the options ' +
    'the committed teachers were trained with (about 50 and 35 minutes on 2 cores). Rerunning the same command resumes ' +
    'from the state directory; the model directory (config, weights, vocabulary, results.json) is written at the end.',
  positionals: [{ name: 'recipe', description: `The recipe: ${RECIPES.join(' or ')}`, required: true }],
  options: TRAIN_OPTIONS,
  examples: [
    { command: 'ziplm train sst2-bert', description: 'Reproduce the committed SST-2 teacher into runs/train/sst2-bert/model' },
    { command: 'ziplm train wikitext2-gpt2 --epochs 1 --out ./gpt2-small', description: 'A shorter GPT2 run' },
    {
      command: 'ziplm train sst2-bert --max-train 2000 --max-steps 200 --eval-every 50 --json',
      description: 'A quick low-data run, results as JSON',
    },
  ],
  async run({ options, args, io }) {
    const name = args[0];
    if (name === undefined) throw new UsageError(`ziplm train needs a recipe: ${RECIPES.join(' or ')}`);
    if (!isRecipe(name)) throw new UsageError(`unknown recipe "${name}" (recipes: ${RECIPES.join(', ')})`);
    if (args.length > 1) throw new UsageError(`ziplm train takes one recipe, got ${args.length} arguments (${args.join(' ')})`);
    const recipe = name;
    await applyInputLimits(options);
    if (recipe !== 'wikitext2-gpt2' && options.seq !== undefined)
      throw new UsageError(`--seq applies to wikitext2-gpt2 only (${recipe}: --max-length)`);
    if (recipe === 'wikitext2-gpt2' && options.maxLength !== undefined)
      throw new UsageError('--max-length applies to sst2-bert and wordorder-bert only (wikitext2-gpt2: --seq)');
    for (const flag of [
      'epochs',
      'maxSteps',
      'maxTrain',
      'batchSize',
      'evalEvery',
      'vocabSize',
      'hidden',
      'layers',
      'heads',
      'maxLength',
      'seq',
      'seed',
    ] as const) {
      const v = options[flag];
      if (v !== undefined && !(v >= 0 && (flag === 'epochs' || Number.isInteger(v)))) {
        throw new UsageError(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a ${flag === 'epochs' ? 'number' : 'whole number'} >= 0, got ${v}`,
        );
      }
    }

    const outDir = resolve(io.cwd, options.out ?? `runs/train/${recipe}/model`);
    const workDir = resolve(io.cwd, options.work ?? `runs/train/${recipe}/state`);
    const defined = <T extends Record<string, unknown>>(o: T) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
    const common = {
      outDir,
      workDir,
      ...(options.dataDir !== undefined ? { dataDir: resolve(io.cwd, options.dataDir) } : {}),
      backend: options.backend,
      command: `ziplm train ${recipe}`,
      ...defined({
        fresh: options.fresh,
        epochs: options.epochs,
        maxSteps: options.maxSteps,
        lr: options.lr,
        warmupRatio: options.warmupRatio,
        weightDecay: options.weightDecay,
        dropout: options.dropout,
        batchSize: options.batchSize,
        seed: options.seed,
        evalEvery: options.evalEvery,
        vocabSize: options.vocabSize,
        hidden: options.hidden,
        layers: options.layers,
        heads: options.heads,
      }),
    };

    const report = progressReporter(io, options.json);
    const hooks = {
      log: (message: string) => report({ kind: 'stage', message }),
      onProgress: (e: ProgressEvent) => {
        if (e.type === 'step')
          report({ kind: 'progress', stage: `training (loss ${e.loss.toFixed(4)})`, done: e.step, total: e.totalSteps });
        else if (e.type === 'evaluation') {
          const metrics = Object.entries(e.metrics)
            .map(([k, v]) => `${k} ${v.toFixed(4)}`)
            .join(', ');
          report({ kind: 'stage', message: `evaluation at step ${e.step}: ${metrics}${e.best ? ' (best so far)' : ''}` });
        } else if (e.type === 'resumed') report({ kind: 'stage', message: `resumed at step ${e.step} from ${e.path}` });
      },
    };

    // Inconsistent recipe options (heads not dividing hidden, an output directory that is not a model
    // directory, ...) are a TrainingConfigError: the invocation's fault, exit 2 (error-codes.ts).
    const sentenceOptions = defined({ maxLength: options.maxLength, maxTrainExamples: options.maxTrain });
    const results: TeacherResultsCommon & { metrics: Readonly<Record<string, number>> } =
      recipe === 'sst2-bert'
        ? await trainSst2Teacher({ ...common, ...sentenceOptions } satisfies Sst2TeacherOptions, hooks)
        : recipe === 'wordorder-bert'
          ? await trainWordOrderTeacher({ ...common, ...sentenceOptions } satisfies WordOrderTeacherOptions, hooks)
          : await trainGpt2Teacher(
              { ...common, ...defined({ seq: options.seq, maxTrainArticles: options.maxTrain }) } satisfies Gpt2TeacherOptions,
              hooks,
            );

    if (options.json) {
      io.stdout(`${JSON.stringify({ outDir, workDir, ...results }, null, 2)}\n`);
      return;
    }
    const m = results.metrics;
    const score =
      recipe === 'sst2-bert'
        ? `dev accuracy ${(100 * m.devAccuracy!).toFixed(2)}% (holdout ${(100 * m.holdoutAccuracy!).toFixed(2)}%)`
        : recipe === 'wordorder-bert'
          ? `held-out accuracy ${(100 * m.heldoutAccuracy!).toFixed(2)}% (validation ${(100 * m.validationAccuracy!).toFixed(2)}%)`
          : `held-out perplexity ${m.heldOutPerplexity!.toFixed(2)}`;
    io.stdout(
      `\n${recipe}: ${score}, best at step ${results.bestStep} of ${results.steps}, ${results.model.parameters} parameters, ` +
        `${results.trainingWallSeconds} s of training\nmodel: ${outDir}\n`,
    );
  },
});
