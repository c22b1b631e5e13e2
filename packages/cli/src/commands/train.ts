// `ziplm train`: the recipes of @ziplm/distill. The teacher recipes (sst2-bert, wordorder-bert, wikitext2-gpt2:
// trainSst2Teacher, trainWordOrderTeacher, trainGpt2Teacher; the committed teachers were trained with their
// defaults) and the generic ones on the user's own data (bert-classifier: trainTextClassifier, gpt2-lm:
// trainCausalLm; docs site: tutorials/your-data.md). A rerun with the same flags resumes from the state
// directory; Ctrl-C or SIGTERM stops after the current update and saves that state.

import { resolve } from 'node:path';
import {
  CAUSAL_LM_DEFAULTS,
  GPT2_TEACHER_DEFAULTS,
  RECIPES,
  TEXT_CLASSIFIER_DEFAULTS,
  TrainingStoppedError,
  SST2_TEACHER_DEFAULTS,
  trainGpt2Teacher,
  trainCausalLm,
  trainSst2Teacher,
  trainTextClassifier,
  trainWordOrderTeacher,
  WORDORDER_TEACHER_DEFAULTS,
  type Gpt2TeacherOptions,
  type ProgressEvent,
  type RecipeName,
  type Sst2TeacherOptions,
  type TeacherResultsCommon,
  type TextClassifierOptions,
  type WordOrderTeacherOptions,
} from '@ziplm/distill';
import { type CommandIO, defineCommand, type OptionsFor, type ParsedOptions, UsageError } from '../command.js';
import { progressReporter } from '../progress.js';
import { DATA_OPTIONS, type DataFlags, dataKind, taskSpecFromFlags } from './data-options.js';
import { applyInputLimits, INPUT_OPTIONS } from './shared.js';

/** The recipes that train on the user's own data (`--data`), by the kind of data each needs. */
const GENERIC_RECIPES = { 'bert-classifier': 'classification', 'gpt2-lm': 'language-modeling' } as const;
type GenericRecipe = keyof typeof GENERIC_RECIPES;
const ALL_RECIPES: readonly string[] = [...RECIPES, ...Object.keys(GENERIC_RECIPES)];

function isGeneric(name: string): name is GenericRecipe {
  return Object.hasOwn(GENERIC_RECIPES, name);
}

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
  ffn: { type: 'number', description: 'bert-classifier and gpt2-lm: FFN neurons per layer (default: 4 x hidden)', valueName: 'N' },
  maxLength: {
    type: 'number',
    description: `Tokens per training sequence, saved in the model and used by prune, eval and the latency table (sst2-bert, wordorder-bert: default ${SST2_TEACHER_DEFAULTS.maxLength}; bert-classifier: ${TEXT_CLASSIFIER_DEFAULTS.maxLength}; gpt2-lm: ${CAUSAL_LM_DEFAULTS.maxLength})`,
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
  from: {
    type: 'string',
    description: 'bert-classifier and gpt2-lm: fine-tune this model directory (its tokenizer and shape) instead of training from scratch',
    valueName: 'DIR',
  },
  patience: { type: 'number', description: 'Stop after N evaluations in a row without a better validation metric', valueName: 'N' },
  maxMinutes: {
    type: 'number',
    description: 'Time budget: stop after the update during which it runs out and keep the best model',
    valueName: 'X',
  },
  ...DATA_OPTIONS,
  ...INPUT_OPTIONS,
  json: { type: 'boolean', description: 'Print the results record (results.json, with outDir and workDir) as JSON', default: false },
} as const satisfies OptionsFor<Sst2TeacherOptions & Gpt2TeacherOptions & Omit<TextClassifierOptions, 'labels'>>;

function isRecipe(name: string): name is RecipeName {
  return RECIPES.some((recipe) => recipe === name);
}

export const trainCommand = defineCommand({
  name: 'train',
  summary:
    'Train a model: bert-classifier or gpt2-lm on your own data (--data), or a teacher recipe: sst2-bert, wordorder-bert, wikitext2-gpt2',
  description:
    'Runs a recipe of @ziplm/distill. `bert-classifier`: a BERT text (or text-pair) classifier on your own CSV, TSV or ' +
    'JSON Lines file (--data, --text-column, --label-column; see guide/data-formats), from scratch with a WordPiece ' +
    'vocabulary of its training text and the shape you choose (--layers --hidden --heads --ffn --max-length), or ' +
    'fine-tuned from a model directory (--from); the labels go into its id2label. `gpt2-lm`: a GPT2 language model on ' +
    'a text file or a directory of them, with a byte-level BPE vocabulary. Both select the best model on the validation ' +
    'part, score it once on the test part (the same seeded split `ziplm prune/eval --data` use) and save the training ' +
    'length in the model. `sst2-bert`: a WordPiece vocabulary and a small BERT classifier trained on ' +
    'glue/sst2/train.tsv, selected on train-holdout.tsv, scored on the official dev.tsv. `wordorder-bert`: the BERT testbed ' +
    'whose layers matter, trained to tell real sentences from ones with their words shuffled; its results.json records ' +
    'the no-attention, no-FFN and bag-of-words ablation. `wikitext2-gpt2`: a small GPT2 on wikitext-2-raw/wiki.test.raw ' +
    'split by article. The teacher data are read from --data-dir, else $ZIPLM_DATA_DIR, else ../shared/data beside the ' +
    'repository; a missing file exits with code 3 and names it. --patience stops early, --max-minutes at a time budget ' +
    '(both keep the best model); Ctrl-C or SIGTERM stops after the current update and saves the state (exit 130 or 143). ' +
    'Rerunning the same command resumes from the state directory; the model directory (config, weights, vocabulary, ' +
    'results.json) is written at the end.',
  positionals: [{ name: 'recipe', description: `The recipe: ${ALL_RECIPES.join(', ')}`, required: true }],
  options: TRAIN_OPTIONS,
  stopsOnSignal: true,
  examples: [
    {
      command: 'ziplm train bert-classifier --data tickets.csv --text-column body --label-column queue --max-minutes 20',
      description: 'A BERT classifier on your own data, for at most 20 minutes; writes runs/train/tickets/model',
    },
    {
      command: 'ziplm train gpt2-lm --data notes/ --layers 2 --hidden 128 --heads 4 --max-length 64 --patience 3',
      description: 'A small GPT2 on a directory of text files, stopping when validation perplexity stops improving',
    },
    { command: 'ziplm train sst2-bert', description: 'Reproduce the committed SST-2 teacher into runs/train/sst2-bert/model' },
    {
      command: 'ziplm train sst2-bert --max-train 2000 --max-steps 200 --eval-every 50 --json',
      description: 'A quick low-data run, results as JSON',
    },
  ],
  async run({ options, args, io }) {
    const name = args[0];
    if (name === undefined) throw new UsageError(`ziplm train needs a recipe: ${ALL_RECIPES.join(', ')}`);
    if (!isRecipe(name) && !isGeneric(name)) throw new UsageError(`unknown recipe "${name}" (recipes: ${ALL_RECIPES.join(', ')})`);
    if (args.length > 1) throw new UsageError(`ziplm train takes one recipe, got ${args.length} arguments (${args.join(' ')})`);
    await applyInputLimits(options);
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
      'ffn',
      'maxLength',
      'seq',
      'seed',
      'patience',
      'maxMinutes',
    ] as const) {
      const v = options[flag];
      const fractional = flag === 'epochs' || flag === 'maxMinutes';
      if (v !== undefined && !(v >= 0 && (fractional || Number.isInteger(v)))) {
        throw new UsageError(
          `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be a ${fractional ? 'number' : 'whole number'} >= 0, got ${v}`,
        );
      }
    }
    const stopping = {
      ...defined({ patience: options.patience, maxMinutes: options.maxMinutes }),
      ...(io.signal ? { signal: io.signal } : {}),
    };
    const hyper = defined({
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
    });
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
        else if (e.type === 'stopped')
          report({ kind: 'stage', message: `stopped at step ${e.step} of ${e.totalSteps}: ${STOP_REASONS[e.reason]}` });
      },
    };
    try {
      if (isGeneric(name)) return await trainOnOwnData(name, options, { ...hyper, ...stopping }, hooks, io);
      if (dataKind(options, io.cwd) !== undefined || options.from !== undefined)
        throw new UsageError(`--data and --from apply to bert-classifier and gpt2-lm; ${name} trains on its own dataset`);
      taskSpecFromFlags(options, io.cwd); // a data flag without --data is a usage error
      if (options.ffn !== undefined)
        throw new UsageError(`--ffn applies to bert-classifier and gpt2-lm (${name}: the FFN is 4 x --hidden)`);
      return await trainTeacher(name, options, { ...hyper, ...stopping }, hooks, io);
    } catch (error) {
      // Ctrl-C or SIGTERM: the state is saved; main exits 130 or 143.
      if (error instanceof TrainingStoppedError && io.signal?.aborted) {
        io.stderr(`- ${error.message}\n`);
        return;
      }
      throw error;
    }
  },
});

/** `o` without its undefined entries (so a recipe's defaults apply to every flag not given). */
function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** What each stop reason means, for the progress line. */
const STOP_REASONS = {
  patience: 'no better validation metric in --patience evaluations (the best model is kept)',
  'time-budget': 'the --max-minutes budget ran out (the best model is kept)',
  aborted: 'stop requested (the state is saved)',
} as const;

type TrainFlags = ParsedOptions<typeof TRAIN_OPTIONS>;
type RecipeHooksLike = NonNullable<Parameters<typeof trainSst2Teacher>[1]>;
type CommonOptions = Record<string, unknown>;

/** A teacher recipe (sst2-bert, wordorder-bert, wikitext2-gpt2). */
async function trainTeacher(
  recipe: RecipeName,
  options: TrainFlags,
  common: CommonOptions,
  hooks: RecipeHooksLike,
  io: CommandIO,
): Promise<void> {
  if (recipe !== 'wikitext2-gpt2' && options.seq !== undefined)
    throw new UsageError(`--seq applies to wikitext2-gpt2 only (${recipe}: --max-length)`);
  if (recipe === 'wikitext2-gpt2' && options.maxLength !== undefined)
    throw new UsageError('--max-length applies to sst2-bert and wordorder-bert only (wikitext2-gpt2: --seq)');
  const outDir = resolve(io.cwd, options.out ?? `runs/train/${recipe}/model`);
  const workDir = resolve(io.cwd, options.work ?? `runs/train/${recipe}/state`);
  const location = {
    outDir,
    workDir,
    ...(options.dataDir !== undefined ? { dataDir: resolve(io.cwd, options.dataDir) } : {}),
    backend: options.backend,
    command: `ziplm train ${recipe}`,
    ...common,
  };
  // Inconsistent recipe options (heads not dividing hidden, an output directory that is not a model
  // directory, ...) are a TrainingConfigError: the invocation's fault, exit 2 (error-codes.ts).
  const sentenceOptions = defined({ maxLength: options.maxLength, maxTrainExamples: options.maxTrain });
  const results: TeacherResultsCommon & { metrics: Readonly<Record<string, number>> } =
    recipe === 'sst2-bert'
      ? await trainSst2Teacher({ ...location, ...sentenceOptions } satisfies Sst2TeacherOptions, hooks)
      : recipe === 'wordorder-bert'
        ? await trainWordOrderTeacher({ ...location, ...sentenceOptions } satisfies WordOrderTeacherOptions, hooks)
        : await trainGpt2Teacher(
            { ...location, ...defined({ seq: options.seq, maxTrainArticles: options.maxTrain }) } satisfies Gpt2TeacherOptions,
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
}

/** bert-classifier or gpt2-lm on the data the flags name, split as `ziplm prune/eval --data` split it. */
async function trainOnOwnData(
  recipe: GenericRecipe,
  options: TrainFlags & DataFlags,
  common: CommonOptions,
  hooks: RecipeHooksLike,
  io: CommandIO,
): Promise<void> {
  for (const [flag, value] of [
    ['--seq', options.seq],
    ['--max-train', options.maxTrain],
    ['--data-dir', options.dataDir],
  ] as const) {
    if (value !== undefined) throw new UsageError(`${flag} applies to the teacher recipes; ${recipe} trains on --data`);
  }
  const spec = taskSpecFromFlags(options, io.cwd);
  if (spec === undefined) throw new UsageError(`ziplm train ${recipe} needs your data: --data FILE (see guide/data-formats)`);
  if (spec.kind !== GENERIC_RECIPES[recipe]) {
    throw new UsageError(
      recipe === 'bert-classifier'
        ? `bert-classifier trains on a table (.csv, .tsv, .jsonl, or --format), and ${options.data} is read as text: use gpt2-lm, or --format`
        : `gpt2-lm trains on text files, and ${options.data} is a table: use bert-classifier`,
    );
  }
  const { describeTaskData, readTaskData } = await import('@ziplm/pipeline');
  const data = readTaskData(spec);
  if (data.validation.length === 0) {
    throw new UsageError(
      `${spec.name}: the validation part is empty; give --validation-data or a validation fraction > 0 in --split (it selects the best model)`,
    );
  }
  const description = await describeTaskData(spec, data);
  const outDir = resolve(io.cwd, options.out ?? `runs/train/${spec.name}/model`);
  const workDir = resolve(io.cwd, options.work ?? `runs/train/${spec.name}/state`);
  const location = {
    outDir,
    workDir,
    backend: options.backend,
    command: `ziplm train ${recipe} ${process.argv.slice(3).join(' ')}`.trim(),
    ...common,
    ...(options.ffn !== undefined ? { ffn: options.ffn } : {}),
    ...(options.maxLength !== undefined ? { maxLength: options.maxLength } : {}),
    ...(options.from !== undefined ? { from: resolve(io.cwd, options.from) } : {}),
  };
  let summary: string;
  let results: object;
  if (data.kind === 'classification') {
    const id = new Map(data.labels.map((label, i) => [label, i]));
    const examples = (part: typeof data.train) =>
      part.map((e) => ({ text: e.text, ...(e.textPair !== undefined ? { textPair: e.textPair } : {}), label: id.get(e.label)! }));
    const rows = data.rows.map((r) => ({ file: r.file, rowsRead: r.report.rowsRead, skipped: r.report.skipped }));
    hooks.log?.(
      `${spec.name}: ${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test rows; labels ${data.labels.join(', ')} (${data.splitRule})`,
    );
    const r = await trainTextClassifier(
      {
        labels: data.labels,
        train: examples(data.train),
        validation: examples(data.validation),
        test: examples(data.test),
        description: { ...description, rows },
      },
      location,
      hooks,
    );
    results = r;
    const test = r.metrics.test ? `test accuracy ${(100 * r.metrics.test.accuracy).toFixed(2)}% on ${r.metrics.test.examples}, ` : '';
    summary = `${test}validation accuracy ${(100 * r.metrics.validation.accuracy).toFixed(2)}%; labels ${r.labels.join(', ')}`;
    summary += `; stopped: ${r.stopReason}, best at step ${r.bestStep} of ${r.steps}, ${r.model.parameters} parameters, ${r.trainingWallSeconds} s of training`;
  } else {
    const texts = (part: typeof data.train) => part.map((d) => d.text);
    hooks.log?.(
      `${spec.name}: ${data.train.length} train, ${data.validation.length} validation, ${data.test.length} test documents (${data.splitRule})`,
    );
    const r = await trainCausalLm(
      { train: texts(data.train), validation: texts(data.validation), test: texts(data.test), description },
      location,
      hooks,
    );
    results = r;
    const test = r.metrics.test ? `test perplexity ${r.metrics.test.perplexity.toFixed(2)}, ` : '';
    summary = `${test}validation perplexity ${r.metrics.validation.perplexity.toFixed(2)}; stopped: ${r.stopReason}, best at step ${r.bestStep} of ${r.steps}, ${r.model.parameters} parameters, ${r.trainingWallSeconds} s of training`;
  }
  if (options.json) {
    io.stdout(`${JSON.stringify({ outDir, workDir, ...results }, null, 2)}\n`);
    return;
  }
  io.stdout(`\n${recipe} on ${spec.name}: ${summary}\nmodel: ${outDir}\n`);
}
