// `ziplm prune`: one-shot ZipLM to a family of speedup targets.

import { join, resolve } from 'node:path';
import type { OneShotOptions, TaskName } from '@ziplm/pipeline';
import { TASK_NAMES } from '@ziplm/pipeline';
import { defineCommand, type OptionsFor } from '../command.js';
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
 * The flags, checked against the one-shot run options they feed. `targets` (`2,3x` → numbers) and
 * `spdy` (a switch, with --spdy-steps, for the SPDY settings) are converted before they are passed on.
 */
const PRUNE_OPTIONS = {
  model: {
    type: 'string',
    description: 'Model directory (Hugging Face layout) or a built-in model name',
    default: DEFAULT_MODEL,
    valueName: 'DIR|NAME',
  },
  task: {
    type: 'string',
    description: "Calibration and scoring data (default: the model's natural dataset when present, else built-in samples)",
    choices: TASK_NAMES,
  },
  ...DATA_OPTIONS,
  targets: { type: 'list', description: 'Speedup targets relative to the dense model', default: ['1.5', '2', '3', '4'] },
  ...ENVIRONMENT_OPTIONS,
  ...COMPOUND_OPTIONS,
  table: { type: 'string', description: 'Use this latency table instead of measuring one', valueName: 'FILE' },
  run: { type: 'string', description: 'Run directory (default: runs/<model>-oneshot-<environment>)', valueName: 'DIR' },
  methods: {
    type: 'list',
    description: 'Methods: ziplm, and the baselines magnitude and uniform',
    choices: ['ziplm', 'magnitude', 'uniform'],
    default: ['ziplm'],
  },
  calibrationSamples: {
    type: 'number',
    description: 'Calibration sequences (default: 2048 for BERT, 512 for GPT2, as in the paper)',
    valueName: 'N',
  },
  seed: { type: 'number', description: 'Seed of the calibration sample', default: 42 },
  evalLimit: { type: 'number', description: 'Score on at most N evaluation items', valueName: 'N' },
  spdy: { type: 'boolean', description: 'Refine the DP with SPDY on the calibration loss (--no-spdy: plain DP)', default: true },
  spdySteps: { type: 'number', description: 'SPDY random initial coefficient vectors and local steps (each)', default: 10, valueName: 'N' },
  evaluate: { type: 'boolean', description: 'Score every member on the task (--no-evaluate to skip)', default: true },
  verify: { type: 'boolean', description: 'Re-time every member (--no-verify to skip)', default: true },
  tolerance: { type: 'number', description: 'Allowed shortfall of measured vs target speedup', default: 0.02 },
  retarget: {
    type: 'number',
    description:
      'Rounds of searching a member again, with the search target scaled by target / measured, when its measured speedup is off the target by more than the tolerance (0: never)',
    default: 2,
    valueName: 'N',
  },
  engine: { type: 'string', description: 'GEMM engine for Hessians and OBS', choices: ['onnxruntime', 'js'], default: 'onnxruntime' },
  ...INPUT_OPTIONS,
  json: { type: 'boolean', description: 'Print the results as JSON', default: false },
} as const satisfies OptionsFor<Omit<OneShotOptions, 'targets' | 'spdy' | 'task'> & { task?: TaskName }>;

export const pruneCommand = defineCommand({
  name: 'prune',
  summary: 'One-shot ZipLM: prune a model to each speedup target, export, score and re-time every member',
  description:
    'Measures (or loads) the latency table, calibrates on the task data, builds the structured OBS level database, ' +
    'searches the per-layer sizes for every target, shrinks, exports ONNX + checkpoint per member, scores it and ' +
    're-times it against the dense model. The run directory is resumed when the command is run again.',
  options: PRUNE_OPTIONS,
  examples: [
    {
      command: 'ziplm prune',
      description: 'Prune the built-in SST-2 BERT to 1.5x, 2x, 3x and 4x for batch-1 latency (also what `ziplm` alone runs)',
    },
    {
      command: 'ziplm prune --model ./bert-sst2 --task sst2 --targets 2,4,6,8 --methods ziplm,magnitude,uniform',
      description: 'Your BERT on SST-2, with both baselines',
    },
    {
      command: 'ziplm prune --model ./gpt2 --task wikitext --mode generation --targets 1.5,2',
      description: 'GPT2 for token-by-token generation',
    },
  ],
  async run({ options, io }) {
    await applyInputLimits(options);
    const { runOneShot } = await import('@ziplm/pipeline');
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
          'oneshot',
          inferenceEnvironment({ ...environment, precision: compound ? (`int8-${compound.activations ?? 'dynamic'}` as const) : 'fp32' }),
          compound,
        );
    // A failed write in the run directory (a full disk) is reported as writing runDir when the error names no file.
    const results = await namingOutput(runDir, () =>
      runOneShot({
        modelDir,
        runDir,
        targets: parseTargets(options.targets),
        ...taskChoice(options, io.cwd),
        environment,
        ...(compound ? { compound } : {}),
        ...(options.table ? { tablePath: resolve(io.cwd, options.table) } : {}),
        methods: options.methods,
        ...(options.calibrationSamples !== undefined ? { calibrationSamples: options.calibrationSamples } : {}),
        spdy: options.spdy ? { randomInits: options.spdySteps, steps: options.spdySteps } : false,
        seed: options.seed,
        ...(options.evalLimit !== undefined ? { evalLimit: options.evalLimit } : {}),
        evaluate: options.evaluate,
        verify: options.verify,
        tolerance: options.tolerance,
        retarget: options.retarget,
        engine: options.engine,
        onEvent,
      }),
    );
    return printRunResults(
      io,
      results,
      { runDir, modelDir, tolerance: options.tolerance, json: options.json },
      { header: 'method', cell: (m) => m.method },
    );
  },
});
