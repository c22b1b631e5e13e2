// Tasks: where calibration samples come from and how a model is scored. A task is a built-in preset
// (`TaskName`) or a spec of the user's own data (`TaskSpec`, docs site: guide/data-formats.md).

import { isDecoder, type ModelConfig } from '@ziplm/models';
import { hasData, WORD_ORDER_DATA_FILES, WORD_ORDER_LABELS } from '@ziplm/models/data';
import type { Tokenizer } from '@ziplm/models/tokenizers';
import { checkInteger, optionError } from '../internal/options.js';
import { taskFromSpec, type TaskSpec } from './custom.js';
import { glueTask, samplesTask, squadTask, wikitextTask, wordOrderTask } from './presets.js';
import { TASK_NAMES, type PreparedTask, type TaskName, type TaskOptions } from './types.js';

export {
  DEFAULT_TASK_SPLIT,
  describeTaskData,
  labelIdsFor,
  readTaskData,
  type ClassificationTaskData,
  type ClassificationTaskSpec,
  type LanguageModelingTaskData,
  type LanguageModelingTaskSpec,
  type TaskData,
  type TaskSpec,
  type TaskSplit,
} from './custom.js';
export { glueSpec, wikitextSpec } from './presets.js';
export {
  LOSS_ITEMS,
  TASK_NAMES,
  type CalibrationLoss,
  type PreparedTask,
  type ScoreProgress,
  type Scores,
  type TaskItem,
  type TaskName,
  type TaskOptions,
} from './types.js';

/** A built-in task's name, or a spec of data files. */
export type TaskChoice = TaskName | TaskSpec;

/** The name a task is recorded under: a preset's name, or a spec's `name`. */
export function taskNameOf(task: TaskChoice): string {
  return typeof task === 'string' ? task : task.name;
}

/** Prepares a task for a model: reads and tokenizes its calibration and evaluation data. */
export function prepareTask(task: TaskChoice, config: ModelConfig, tokenizer: Tokenizer, options: TaskOptions = {}): PreparedTask {
  checkInteger(options.calibrationSamples, 'calibrationSamples', 1);
  checkInteger(options.evalLimit, 'evalLimit', 1);
  checkInteger(options.evalBatchSize, 'evalBatchSize', 1);
  checkInteger(options.maxLength, 'maxLength', 2);
  if (typeof task === 'object' && task !== null) {
    if (typeof task.name !== 'string' || task.name.trim() === '') throw optionError('task.name', 'must be a non-empty string');
    return taskFromSpec(task, config, tokenizer, options);
  }
  switch (task) {
    case 'sst2':
    case 'qnli':
      return glueTask(task, config, tokenizer, options);
    case 'wordorder':
      return wordOrderTask(config, tokenizer, options);
    case 'squad':
      return squadTask(config, tokenizer, options);
    case 'wikitext':
      return wikitextTask(config, tokenizer, options);
    case 'samples':
      return samplesTask(config, tokenizer, options);
    default:
      throw optionError('task', `must be one of ${TASK_NAMES.join(', ')} or a task spec, got ${JSON.stringify(task)}`);
  }
}

/** A classifier whose labels are the word-order task's (the wordorder-bert teacher and what is pruned from it). */
function isWordOrderModel(config: ModelConfig): boolean {
  const labels = config.modelType === 'bert' && config.head.type === 'classification' ? config.head.labels : [];
  return labels.length === WORD_ORDER_LABELS.length && labels.every((l, i) => l === WORD_ORDER_LABELS[i]);
}

/** The task to use when none is given: the model's natural dataset if it is present, else the built-in samples. */
export function defaultTask(config: ModelConfig): TaskName {
  if (isDecoder(config)) return hasData('wikitext-2-raw/wiki.test.raw') ? 'wikitext' : 'samples';
  if (config.head.type === 'span-qa') return 'squad';
  if (isWordOrderModel(config)) return hasData(...WORD_ORDER_DATA_FILES) ? 'wordorder' : 'samples';
  return hasData('glue/sst2/train.tsv', 'glue/sst2/dev.tsv') ? 'sst2' : 'samples';
}
