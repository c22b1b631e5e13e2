// `ziplm latency`: measure the latency table of a model shape on this device, or (`--export-levels`)
// write the graphs a table build times and their manifest, for a browser to measure
// (`@ziplm/latency/browser`).

import { resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.js';
import { progressReporter } from '../progress.js';
import { DEFAULT_MODEL, resolveModelDir } from '../util.js';
import { ENVIRONMENT_OPTIONS, environmentForModel, textTable } from './shared.js';

export const latencyCommand = defineCommand({
  name: 'latency',
  summary: 'Measure the latency table of a model on this device (attention per head count, FFN per size)',
  description:
    'Times the dense model, its non-prunable rest, and every attention head count and FFN size of the level grid in ' +
    "onnxruntime, with an interleaved protocol robust to a busy machine. Only the model's shape matters, not its weights.",
  options: {
    model: {
      type: 'string',
      description: 'Model directory or built-in model name (its config gives the shape)',
      default: DEFAULT_MODEL,
      valueName: 'DIR|NAME',
    },
    ...ENVIRONMENT_OPTIONS,
    precision: {
      type: 'string',
      description: 'Number format of the timed graphs; an INT8 table also times the dense FP32 model, the reference of its speedups',
      choices: ['fp32', 'int8-dynamic', 'int8-static'],
      default: 'fp32',
    },
    out: { type: 'string', description: 'Where to write the table', default: 'latency-table.json', valueName: 'FILE' },
    minRounds: { type: 'number', description: 'Minimum timing rounds per configuration', valueName: 'N' },
    maxRounds: { type: 'number', description: 'Maximum timing rounds per configuration', valueName: 'N' },
    json: { type: 'boolean', description: 'Print the table as JSON', default: false },
    exportLevels: {
      type: 'string',
      description:
        'Measure nothing: write the graphs a table build times (one ONNX file per attention and FFN level, the dense, empty and calibration models) and manifest.json to DIR, for @ziplm/latency/browser to measure in a browser',
      valueName: 'DIR',
    },
  },
  examples: [
    { command: 'ziplm latency --model ./bert-base --out bert-base.b1.json', description: 'Batch-1 latency table of BERT-base' },
    {
      command: 'ziplm latency --model ./bert-base --precision int8-dynamic --out bert-base.int8.json',
      description: 'INT8 blocks (dynamic activations), with the dense FP32 model timed as the speedup reference',
    },
    {
      command: 'ziplm latency --model ./gpt2 --mode generation --past-length 50',
      description: 'GPT2 decoding one token with a 50-token KV cache',
    },
    {
      command: 'ziplm latency --model tiny-bert --export-levels tiny-bert.levels',
      description: "The level graphs and manifest of tiny-bert's table, for the docs site's in-browser measurement",
    },
  ],
  async run({ options, io }) {
    const { inferenceEnvironment, saveLatencyTable, describeEnvironment } = await import('@ziplm/latency');
    const { buildLatencyTable, planLatencyTable, writeLatencyPlan } = await import('@ziplm/latency/measure');
    const { readConfigFile } = await import('@ziplm/models/io');
    for (const [flag, v] of [
      ['--min-rounds', options.minRounds],
      ['--max-rounds', options.maxRounds],
    ] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UsageError(`${flag} must be an integer >= 1, got ${v}`);
    }
    if (options.minRounds !== undefined && options.maxRounds !== undefined && options.maxRounds < options.minRounds) {
      throw new UsageError(`--max-rounds (${options.maxRounds}) must be >= --min-rounds (${options.minRounds})`);
    }
    const dir = resolveModelDir(options.model, io.cwd);
    const config = await readConfigFile(`${dir}/config.json`);
    const env = inferenceEnvironment({ ...environmentForModel(options, config), precision: options.precision });
    if (env.mode === 'generation' && config.modelType === 'bert')
      throw new UsageError(
        `--mode generation (one token at a time with a KV cache) needs a decoder (GPT2 or LLaMA); ${dir} is an encoder (${config.variant === 'distilbert' ? 'DistilBERT' : 'BERT'})`,
      );
    const report = progressReporter(io, options.json);
    const rounds = {
      ...(options.minRounds !== undefined ? { minRounds: options.minRounds } : {}),
      ...(options.maxRounds !== undefined ? { maxRounds: options.maxRounds } : {}),
    };
    if (options.exportLevels !== undefined) {
      const dir = resolve(io.cwd, options.exportLevels);
      report({
        kind: 'stage',
        message: `writing the level graphs of ${config.modelType} (${config.numLayers} layers) — ${describeEnvironment(env)}`,
      });
      const manifest = await writeLatencyPlan(dir, planLatencyTable(config, env, rounds), {
        onProgress: (p) => report({ kind: 'progress', stage: 'export', done: p.done, total: p.total }),
      });
      if (options.json) {
        io.stdout(`${JSON.stringify(manifest, null, 2)}\n`);
        return;
      }
      const files = manifest.graphs.flatMap((g) => (g.role !== 'overhead' && g.file ? [g.file] : []));
      const megabytes = files.reduce((sum, f) => sum + f.size, 0) / 2 ** 20;
      io.stdout(`${files.length} graphs (${megabytes.toFixed(1)} MiB) and manifest.json written to ${dir}\n`);
      return;
    }
    report({
      kind: 'stage',
      message: `measuring ${config.modelType} (${config.numLayers} layers, hidden ${config.hiddenSize}) — ${describeEnvironment(env)}`,
    });
    const table = await buildLatencyTable(config, env, {
      ...rounds,
      onProgress: (p) => {
        if (p.phase === 'prepare') report({ kind: 'progress', stage: 'prepare', done: p.done, total: p.total });
        else if (p.phase === 'rounds')
          report({ kind: 'progress', stage: `rounds (${p.active} configurations)`, done: p.round, total: options.maxRounds ?? 60 });
      },
    });
    const out = resolve(io.cwd, options.out);
    await saveLatencyTable(out, table);
    if (options.json) {
      io.stdout(`${JSON.stringify(table, null, 2)}\n`);
      return;
    }
    const ms = (x: number) => x.toFixed(3);
    const rows = [
      ...table.attention.map((e) => ['attention', String(e.kept), ms(e.time)]),
      ...table.ffn.map((e) => ['ffn', String(e.kept), ms(e.time)]),
    ];
    io.stdout(
      `dense ${ms(table.dense.median)} ms, non-prunable ${ms(table.nonPrunable.median)} ms` +
        `${table.reference ? `, dense FP32 (the reference) ${ms(table.reference.median)} ms` : ''} (${(table.build?.seconds ?? 0).toFixed(0)} s to measure)\n\n` +
        `${textTable(['module', 'kept', 'ms per layer'], rows)}\n\nwritten to ${out}\n`,
    );
  },
});
