// `ziplm gradual`: the paper's gradual mode, a family of ever faster models in one run.

import { join, resolve } from 'node:path';
import type { GradualFineTuneOptions, GradualOptions, TaskName } from '@ziplm/pipeline';
import { TASK_NAMES } from '@ziplm/pipeline';
import { defineCommand, UsageError, type OptionsFor } from '../command.js';
import { namingOutput } from '../internal/io-errors.js';
import { progressReporter } from '../progress.js';
import { DATA_OPTIONS, taskChoice } from './data-options.js';
import { DEFAULT_MODEL, modelLayoutLine, resolveModelDir } from '../util.js';
import {
  applyInputLimits,
  defaultRunDir,
  COMPOUND_OPTIONS,
  compoundOptions,
  ENVIRONMENT_OPTIONS,
  environmentForModel,
  INPUT_OPTIONS,
  parseTargets,
  printRunResults,
} from './shared.js';

/**
 * The flags, checked against the gradual run options they feed: the run's own, and the fine-tuning
 * options of the same name (`--epochs`, `--temperature`, ...). `targets` (`2,3x` → numbers) and `spdy`
 * (a switch, with --spdy-steps, for the SPDY settings) are converted before they are passed on;
 * `--batch-size` is the inference environment's, `--train-batch-size` the fine-tuning batch.
 */
const GRADUAL_OPTIONS = {
  model: {
    type: 'string',
    description: 'The dense (fine-tuned) model directory or a built-in model name',
    default: DEFAULT_MODEL,
    valueName: 'DIR|NAME',
  },
  task: {
    type: 'string',
    description: 'Calibration, fine-tuning and scoring data',
    choices: TASK_NAMES,
  },
  ...DATA_OPTIONS,
  targets: { type: 'list', description: 'Speedup targets (run in ascending order)', default: ['2', '3', '4', '6', '8'] },
  ...ENVIRONMENT_OPTIONS,
  ...COMPOUND_OPTIONS,
  qatEpochs: {
    type: 'number',
    description:
      'With --quantize: epochs of quantization-aware fine-tuning (fake-quantized INT8, same distillation) after GPTQ (default 0)',
    valueName: 'N',
  },
  table: { type: 'string', description: 'Use this latency table instead of measuring one', valueName: 'FILE' },
  run: { type: 'string', description: 'Run directory (default: runs/<model>-gradual-<environment>)', valueName: 'DIR' },
  calibrationSamples: { type: 'number', description: 'Calibration sequences (default: 2048 for BERT, 512 for GPT2)', valueName: 'N' },
  trainSamples: { type: 'number', description: 'Fine-tune on at most N training sequences (low-data setting)', valueName: 'N' },
  epochs: { type: 'number', description: 'Fine-tuning epochs per step (default: Table 7, 8 for BERT, 2 for GPT2)', valueName: 'N' },
  lr: { type: 'number', description: 'Peak learning rate, linear decay (default: Table 7, 8e-5 BERT, 1e-3 GPT2)', valueName: 'X' },
  trainBatchSize: { type: 'number', description: 'Fine-tuning batch size (default: 32 GLUE, 16 SQuAD and GPT2)', valueName: 'N' },
  weightDecay: { type: 'number', description: 'Decoupled weight decay (default: 0.03 BERT, 0 GPT2)', valueName: 'X' },
  temperature: { type: 'number', description: 'Logit distillation temperature', default: 2, valueName: 'T' },
  lambdas: { type: 'list', description: 'λ1,λ2,λ3 (task, logit, token distillation); default: Table 7 for the task', valueName: 'A,B,C' },
  compareNoTokenDistillation: { type: 'boolean', description: "Also run the λ3 = 0 family (the paper's Table 3 ablation)", default: false },
  spdy: { type: 'boolean', description: 'Refine the DP with SPDY on the calibration loss (--no-spdy: plain DP)', default: true },
  spdySteps: { type: 'number', description: 'SPDY random initial coefficient vectors and local steps (each)', default: 10, valueName: 'N' },
  engine: { type: 'string', description: 'GEMM engine for Hessians and OBS', choices: ['onnxruntime', 'js'], default: 'onnxruntime' },
  seed: { type: 'number', description: 'Seed of the calibration sample', default: 42 },
  evalLimit: { type: 'number', description: 'Score on at most N evaluation items', valueName: 'N' },
  verify: { type: 'boolean', description: 'Re-time every member (--no-verify to skip)', default: true },
  tolerance: { type: 'number', description: 'Allowed shortfall of measured vs target speedup', default: 0.02 },
  ...INPUT_OPTIONS,
  json: { type: 'boolean', description: 'Print the results as JSON', default: false },
} as const satisfies OptionsFor<
  Omit<GradualOptions, 'targets' | 'spdy' | 'task'> & Omit<GradualFineTuneOptions, 'batchSize'> & { task?: TaskName }
>;

export const gradualCommand = defineCommand({
  name: 'gradual',
  summary: 'Gradual ZipLM: prune to ascending targets, fine-tuning with distillation from the dense model after each step',
  description:
    'For each target in ascending order: build the level database on the current model, search (DP + SPDY) within its ' +
    'current sizes, shrink, fine-tune with L = λ1·task + λ2·logit + λ3·token distillation from the dense teacher (the ' +
    "paper's Table 7 defaults), export and score the member, and continue from it. Speedups are relative to the dense model.",
  options: GRADUAL_OPTIONS,
  examples: [
    {
      command: 'ziplm gradual --model ./bert-sst2 --task sst2 --targets 2,4,6,8,10',
      description: 'A family of SST-2 models for batch-1 latency',
    },
    {
      command: 'ziplm gradual --task sst2 --train-samples 2000 --compare-no-token-distillation',
      description: 'The low-data token distillation ablation',
    },
  ],
  async run({ options, io }) {
    await applyInputLimits(options);
    const { runGradual } = await import('@ziplm/pipeline');
    const { inferenceEnvironment } = await import('@ziplm/latency');
    const modelDir = resolveModelDir(options.model, io.cwd);
    const onEvent = progressReporter(io, options.json);
    const layoutLine = modelLayoutLine(modelDir);
    if (layoutLine !== undefined) onEvent({ kind: 'stage', message: layoutLine });
    const { readConfigFile } = await import('@ziplm/models/io');
    const compound = compoundOptions(options);
    const environment = environmentForModel(options, await readConfigFile(join(modelDir, 'config.json')));
    const runDir = options.run
      ? resolve(io.cwd, options.run)
      : defaultRunDir(
          io.cwd,
          modelDir,
          'gradual',
          inferenceEnvironment({ ...environment, precision: compound ? (`int8-${compound.activations ?? 'dynamic'}` as const) : 'fp32' }),
          compound,
        );
    let weights: { task: number; logit: number; token: number } | undefined;
    if (options.lambdas) {
      const l = options.lambdas.map(Number);
      if (l.length !== 3 || l.some((x) => !(Number.isFinite(x) && x >= 0)))
        throw new UsageError(`--lambdas needs three non-negative numbers (task,logit,token), got "${options.lambdas.join(',')}"`);
      weights = { task: l[0]!, logit: l[1]!, token: l[2]! };
    }
    // A failed write in the run directory (a full disk) is reported as writing runDir when the error names no file.
    const results = await namingOutput(runDir, () =>
      runGradual({
        modelDir,
        runDir,
        targets: parseTargets(options.targets),
        ...taskChoice(options, io.cwd),
        environment,
        ...(compound ? { compound } : {}),
        ...(options.table ? { tablePath: resolve(io.cwd, options.table) } : {}),
        ...(options.calibrationSamples !== undefined ? { calibrationSamples: options.calibrationSamples } : {}),
        seed: options.seed,
        spdy: options.spdy ? { randomInits: options.spdySteps, steps: options.spdySteps } : false,
        engine: options.engine,
        ...(options.evalLimit !== undefined ? { evalLimit: options.evalLimit } : {}),
        verify: options.verify,
        tolerance: options.tolerance,
        fineTune: {
          temperature: options.temperature,
          ...(options.trainSamples !== undefined ? { trainSamples: options.trainSamples } : {}),
          ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
          ...(options.lr !== undefined ? { learningRate: options.lr } : {}),
          ...(options.trainBatchSize !== undefined ? { batchSize: options.trainBatchSize } : {}),
          ...(options.weightDecay !== undefined ? { weightDecay: options.weightDecay } : {}),
        },
        variants: [
          weights ? { weights } : {},
          ...(options.compareNoTokenDistillation ? [{ name: 'no token distillation', weights: { ...(weights ?? {}), token: 0 } }] : []),
        ],
        onEvent,
      }),
    );
    return printRunResults(
      io,
      results,
      { runDir, modelDir, tolerance: options.tolerance, json: options.json },
      { header: 'family', cell: (m) => m.variant ?? 'ziplm' },
    );
  },
});
