// The `ziplm` flag of each pipeline option. @ziplm/pipeline names a refused option by its path in the
// call (`OptionsError.option`, e.g. `fineTune.trainSamples`) and knows nothing of flags; the CLI maps
// the path back to the flag the user typed, so the message reads
// `--train-samples (option fineTune.trainSamples) must be an integer >= 1, got 0`.
// Only types are imported: `ziplm --help` must not load the pipeline.

import type { GradualOptions, OneShotOptions, OptionsError } from '@ziplm/pipeline';
import type { gradualCommand } from '../commands/gradual.js';
import type { pruneCommand } from '../commands/prune.js';

/**
 * Dotted paths of the options of `T`, as OptionsError names them: every field, and the fields of an
 * object-valued field (`environment.mode`) or of the items of an array of objects (`variants.weights`).
 * Callbacks are not options a user types.
 */
export type OptionPath<T> = { [K in keyof T & string]-?: PathsOf<K, NonNullable<T[K]>> }[keyof T & string];
type PathsOf<K extends string, V> = V extends (...args: never[]) => unknown
  ? never
  : V extends readonly (infer Item)[]
    ? Item extends object
      ? K | `${K}.${OptionPath<Item>}`
      : K
    : V extends object
      ? K | `${K}.${OptionPath<V>}`
      : K;

/** `calibrationSamples` → `calibration-samples`: how parseOptions spells an option key as a flag. */
type Kebab<S extends string> = S extends `${infer C}${infer Rest}`
  ? `${C extends Lowercase<C> ? C : `-${Lowercase<C>}`}${Kebab<Rest>}`
  : '';

/** A flag of `ziplm prune` or `ziplm gradual`, the commands that call the pipeline's runs. */
export type RunFlag = `--${Kebab<RunCommandOption>}`;
type RunCommandOption = (keyof (typeof pruneCommand)['options'] | keyof (typeof gradualCommand)['options']) & string;

/** Every option path of the pipeline's runs (one-shot and gradual). */
export type RunOptionPath = OptionPath<OneShotOptions & GradualOptions>;

/**
 * The flag that sets each run option the CLI exposes. Keys are checked against the pipeline's option
 * types and values against the commands' flags, so neither side can drift. Options without a flag
 * (`tableRounds`, `fineTune.seed`, ...) are named by their path alone.
 */
export const RUN_OPTION_FLAGS: { readonly [P in RunOptionPath]?: RunFlag } = {
  targets: '--targets',
  task: '--task',
  methods: '--methods',
  calibrationSamples: '--calibration-samples',
  seed: '--seed',
  evalLimit: '--eval-limit',
  tolerance: '--tolerance',
  retarget: '--retarget',
  engine: '--engine',
  'spdy.randomInits': '--spdy-steps',
  'spdy.steps': '--spdy-steps',
  'environment.mode': '--mode',
  'environment.threads': '--threads',
  'environment.batchSize': '--batch-size',
  'environment.sequenceLength': '--seq-length',
  'environment.pastLength': '--past-length',
  'fineTune.epochs': '--epochs',
  'fineTune.learningRate': '--lr',
  'fineTune.batchSize': '--train-batch-size',
  'fineTune.weightDecay': '--weight-decay',
  'fineTune.temperature': '--temperature',
  'fineTune.trainSamples': '--train-samples',
  'variants.weights': '--lambdas',
};

function isRunOptionPath(option: string): option is RunOptionPath {
  return Object.hasOwn(RUN_OPTION_FLAGS, option);
}

/** The flag of an option path, when the CLI has one. */
export function flagOf(option: string): RunFlag | undefined {
  return isRunOptionPath(option) ? RUN_OPTION_FLAGS[option] : undefined;
}

/**
 * What `ziplm` prints for a refused option: `--flag (option path) problem` when the option has a flag,
 * else the error's own `option path problem`.
 */
export function describeOptionsError(error: Pick<OptionsError, 'option' | 'problem' | 'message'>): string {
  const flag = flagOf(error.option);
  return flag ? `${flag} (option ${error.option}) ${error.problem}` : error.message;
}
