// `ziplm eval`: score a model on a task.

import type { RunOptions, TaskName } from '@ziplm/pipeline';
import { TASK_NAMES } from '@ziplm/pipeline';
import { defineCommand, type OptionsFor } from '../command.js';
import { progressReporter } from '../progress.js';
import { DEFAULT_MODEL, modelLayoutLine, resolveModelDir } from '../util.js';
import { DATA_OPTIONS, taskChoice } from './data-options.js';
import { applyInputLimits, INPUT_OPTIONS } from './shared.js';

/** The flags, checked against the run options of the same name (`--task`, `--eval-limit`). */
const EVAL_OPTIONS = {
  model: { type: 'string', description: 'Model directory or built-in model name', default: DEFAULT_MODEL, valueName: 'DIR|NAME' },
  task: {
    type: 'string',
    description: "Dataset (default: the model's natural dataset when present, else built-in samples)",
    choices: TASK_NAMES,
  },
  ...DATA_OPTIONS,
  evalLimit: { type: 'number', description: 'Score on at most N items', valueName: 'N' },
  ...INPUT_OPTIONS,
  json: { type: 'boolean', description: 'Print JSON', default: false },
} as const satisfies OptionsFor<Pick<RunOptions, 'evalLimit'> & { task?: TaskName }>;

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'Score a model on a task (accuracy, F1, perplexity) in onnxruntime',
  options: EVAL_OPTIONS,
  examples: [
    { command: 'ziplm eval --model runs/x/members/ziplm-4.00x --task sst2', description: 'SST-2 dev accuracy of a member' },
    {
      command: 'ziplm eval --model ./spam-bert --data spam.tsv --text-column message --label-column category',
      description: 'Accuracy on the test part of your own data (the same seeded split `ziplm train` used)',
    },
  ],
  async run({ options, io }) {
    await applyInputLimits(options);
    const { loadModelDir } = await import('@ziplm/models/io');
    const { prepareTask, defaultTask, scoreCheckpoint } = await import('@ziplm/pipeline');
    const dir = resolveModelDir(options.model, io.cwd);
    const chosen = taskChoice(options, io.cwd).task;
    const report = progressReporter(io, options.json);
    const layoutLine = modelLayoutLine(dir);
    if (layoutLine !== undefined) report({ kind: 'stage', message: layoutLine });
    const { checkpoint, tokenizer } = await loadModelDir(dir);
    const task = prepareTask(chosen ?? defaultTask(checkpoint.config), checkpoint.config, tokenizer, {
      ...(options.evalLimit !== undefined ? { evalLimit: options.evalLimit } : {}),
    });
    report({ kind: 'stage', message: `scoring ${dir} on ${task.name} (${task.metric.label})` });
    const started = performance.now();
    let items = 0;
    const scores = await scoreCheckpoint(checkpoint, task, undefined, (done, total) => {
      items = total;
      report({ kind: 'progress', stage: 'evaluate', done, total });
    });
    report({ kind: 'stage', message: `scored ${items} sequences in ${((performance.now() - started) / 1000).toFixed(1)} s` });
    const result = {
      model: dir,
      task: task.name,
      ...(task.labels ? { labels: task.labels } : {}),
      metric: task.metric.name,
      label: task.metric.label,
      value: scores.metric,
      notes: task.notes,
    };
    io.stdout(
      options.json
        ? `${JSON.stringify(result, null, 2)}\n`
        : `${task.metric.label}: ${scores.metric.toFixed(2)}\n${task.notes.map((n) => `note: ${n}\n`).join('')}`,
    );
  },
});
