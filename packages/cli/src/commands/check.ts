// `ziplm check`: load a model, run it in TensorFlow.js and in onnxruntime on the same inputs, and
// report parity and timing. The comparison is @ziplm/pipeline's `checkEngineParity`; this command
// checks its flags, loads the model and prints the result.

import { defineCommand, UsageError } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { progressReporter } from '../progress.js';
import { DEFAULT_MODEL, modelLayoutLine, resolveModelDir } from '../util.js';
import { applyInputLimits, INPUT_OPTIONS } from './shared.js';

export const checkCommand = defineCommand({
  name: 'check',
  summary: 'Load a model, run it in TensorFlow.js and onnxruntime, report parity and timing',
  description:
    'Reads a Hugging Face model directory (config.json, model.safetensors, vocabulary), runs the built-in sample ' +
    'sentences through the TensorFlow.js model and through its ONNX export in onnxruntime, and compares the logits ' +
    'and every hidden state. Exits with code 5 when the difference exceeds the tolerance.',
  options: {
    model: {
      type: 'string',
      description: 'Model directory, or the name of a built-in model',
      default: DEFAULT_MODEL,
      valueName: 'DIR|NAME',
    },
    repeats: { type: 'number', description: 'Timed runs per engine (the median is reported)', default: 10 },
    tolerance: { type: 'number', description: 'Largest allowed |tfjs - onnx| over logits and hidden states', default: 1e-4 },
    ...INPUT_OPTIONS,
    json: { type: 'boolean', description: 'Print one JSON object instead of text', default: false },
  },
  examples: [
    { command: 'ziplm check', description: 'Check the built-in tiny BERT' },
    { command: 'ziplm check --model ./my-bert --json', description: 'Check your own checkpoint, machine-readable' },
  ],
  async run({ options, io }) {
    if (!(Number.isInteger(options.repeats) && options.repeats >= 1))
      throw new UsageError(`--repeats must be an integer >= 1, got ${options.repeats}`);
    if (!(options.tolerance >= 0)) throw new UsageError(`--tolerance must be >= 0, got ${options.tolerance}`);
    await applyInputLimits(options);
    const { loadModelDir } = await import('@ziplm/models/io');
    const { checkEngineParity } = await import('@ziplm/pipeline');

    const dir = resolveModelDir(options.model, io.cwd);
    const layoutLine = modelLayoutLine(dir);
    if (layoutLine !== undefined) progressReporter(io, options.json)({ kind: 'stage', message: layoutLine });
    const parity = await checkEngineParity(await loadModelDir(dir), { repeats: options.repeats, tolerance: options.tolerance });
    const { ok, batch } = parity;
    const report = { model: dir, ...parity };
    if (options.json) {
      io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const f = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
      const { family, modelType, layers, hiddenSize, layerHeads, layerIntermediate } = parity;
      io.stdout(
        [
          `model       ${dir}`,
          `            ${family}, ${layers} layers, hidden ${hiddenSize}, heads [${layerHeads.join(' ')}], FFN [${layerIntermediate.join(' ')}], ${(parity.parameters / 1e6).toFixed(2)}M parameters`,
          `backend     ${parity.backend} (${parity.backendReason})`,
          `inputs      ${batch.size} sample ${modelType === 'bert' ? 'sentences' : 'lines'}, padded to ${batch.seqLength} tokens`,
          `tfjs        ${f(parity.tfjsMedianMs)} per forward (median of ${options.repeats})`,
          `onnx        export ${f(parity.onnxExportMs)}, session ${f(parity.onnxSessionMs)}, ${f(parity.onnxMedianMs)} per run (median of ${options.repeats})`,
          `parity      max |tfjs - onnx|: logits ${parity.maxAbsDiffLogits.toExponential(2)}, hidden states ${parity.maxAbsDiffHiddenStates.toExponential(2)} (tolerance ${options.tolerance}): ${ok ? 'OK' : 'FAILED'}`,
          '',
        ].join('\n'),
      );
    }
    return ok ? EXIT.ok : EXIT.checkFailed;
  },
});
