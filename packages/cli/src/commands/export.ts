// `ziplm export`: a checkpoint to ONNX for an environment.

import { resolve } from 'node:path';
import { writeFileAtomic } from '@ziplm/core/node';
import type { ModelExportOptions } from '@ziplm/models/onnx';
import { defineCommand, type OptionsFor, UsageError } from '../command.js';
import { DEFAULT_MODEL, resolveModelDir } from '../util.js';

/** The flags, checked against the export options of the same name (`--mode`, `--hidden-states`). */
const EXPORT_OPTIONS = {
  model: { type: 'string', description: 'Model directory or built-in model name', default: DEFAULT_MODEL, valueName: 'DIR|NAME' },
  out: { type: 'string', description: 'ONNX file to write', default: 'model.onnx', valueName: 'FILE' },
  mode: {
    type: 'string',
    description: 'full (every position) or decode (GPT2: new tokens with a KV cache)',
    choices: ['full', 'decode'],
    default: 'full',
  },
  hiddenStates: { type: 'boolean', description: 'Also output every hidden state', default: false },
  json: { type: 'boolean', description: 'Print a JSON summary', default: false },
} as const satisfies OptionsFor<ModelExportOptions>;

export const exportCommand = defineCommand({
  name: 'export',
  summary: 'Export a checkpoint (dense or pruned) to ONNX',
  description:
    'Writes the whole model as one ONNX graph with dynamic batch and sequence, every layer with its own head count and FFN size. Generation mode writes the GPT2 decode graph with a KV cache.',
  options: EXPORT_OPTIONS,
  examples: [{ command: 'ziplm export --model runs/x/members/ziplm-4.00x --out bert-4x.onnx', description: 'Export a pruned member' }],
  async run({ options, io }) {
    const { loadModelCheckpoint } = await import('@ziplm/models/io');
    const { exportModelToOnnx } = await import('@ziplm/models/onnx');
    const dir = resolveModelDir(options.model, io.cwd);
    const { checkpoint } = await loadModelCheckpoint(dir);
    // As `ziplm latency --mode generation`: asking a BERT model for KV-cache decoding is the invocation's fault.
    if (options.mode === 'decode' && checkpoint.config.modelType === 'bert') {
      throw new UsageError(
        `--mode decode (new tokens with a KV cache) needs a decoder (GPT2 or LLaMA); ${dir} is an encoder (${checkpoint.config.variant === 'distilbert' ? 'DistilBERT' : 'BERT'})`,
      );
    }
    const bytes = exportModelToOnnx(checkpoint, { mode: options.mode, hiddenStates: options.hiddenStates });
    const out = resolve(io.cwd, options.out);
    // Atomic: a failed write (a full disk) leaves a previous export at `out` as it was, never half a model;
    // the error names `out` (@ziplm/core's writer gives a handle's write error the file's path).
    await writeFileAtomic(out, bytes);
    const summary = {
      model: dir,
      out,
      bytes: bytes.length,
      layerHeads: checkpoint.config.layerHeads,
      layerIntermediate: checkpoint.config.layerIntermediate,
    };
    io.stdout(
      options.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `wrote ${out} (${(bytes.length / 1e6).toFixed(2)} MB; heads [${summary.layerHeads.join(' ')}], FFN [${summary.layerIntermediate.join(' ')}])\n`,
    );
  },
});
