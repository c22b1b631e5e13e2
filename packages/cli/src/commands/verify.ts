// `ziplm verify`: re-time a pruned model against its dense model; exit code 5 on a real miss (the whole
// 95% interval of the measured speedup below the target less the tolerance), exit 0 on an inconclusive
// verdict (the interval straddles that bound: timing noise, not a miss). What is timed is the file the
// user deploys: a member's shipped model.onnx, checked first against the size and sha256 its
// member.json recorded (a truncated or replaced file is exit 3 naming it), never a re-export.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { defineCommand, UsageError } from '../command.js';
import { EXIT } from '../exit-codes.js';
import { progressReporter } from '../progress.js';
import { resolveModelDir } from '../util.js';
import { retimeCommand, retimeRounds } from './shared.js';

/**
 * The fewest rounds with a 95% interval of a median: below 6 no pair of order statistics covers it
 * with 95% probability (see `medianInterval` in @ziplm/latency).
 */
const MIN_ROUNDS = 6;

export const verifyCommand = defineCommand({
  name: 'verify',
  summary: "Measure a pruned model's speedup over its dense model; exit code 5 only when it really misses the target",
  description:
    "Times the dense and the pruned model in one interleaved protocol in the latency table's environment and reports " +
    'target, predicted and measured speedup with the 95% interval of the measured speedup (from the per-round ratios). ' +
    'A timing check: it fails (exit 5) only when the whole interval lies below the target less the tolerance. When the ' +
    'interval straddles that bound the verdict is inconclusive (exit 0) and names why (a busy machine, drift since the ' +
    'table, too few rounds): re-time with more --rounds, on a quieter machine.',
  options: {
    dense: { type: 'string', description: 'The dense model directory (or built-in name)', required: true, valueName: 'DIR|NAME' },
    model: { type: 'string', description: 'The pruned model directory (a member of a run)', required: true, valueName: 'DIR' },
    table: {
      type: 'string',
      description: 'The latency table the model was searched with (gives the environment and the prediction)',
      required: true,
      valueName: 'FILE',
    },
    target: { type: 'number', description: "Target speedup (default: the member's own target from member.json)", valueName: 'X' },
    tolerance: { type: 'number', description: 'Allowed shortfall of measured vs target speedup', default: 0.02 },
    rounds: {
      type: 'number',
      description: `Timing rounds, exactly (default: 20, then more until the speedup is precise, up to 100); at least ${MIN_ROUNDS}`,
      valueName: 'N',
    },
    json: { type: 'boolean', description: 'Print JSON', default: false },
  },
  examples: [
    {
      command: 'ziplm verify --dense ./bert --model runs/x/members/ziplm-4.00x --table runs/x/latency-table.json',
      description: 'Check a member still meets 4x on this machine',
    },
    {
      command: 'ziplm verify --dense ./bert --model runs/x/members/ziplm-4.00x --table runs/x/latency-table.json --rounds 100',
      description: 'Re-time an inconclusive member with more rounds (a narrower interval)',
    },
  ],
  async run({ options, io }) {
    if (options.target !== undefined && !(options.target > 0))
      throw new UsageError(`--target must be a speedup > 0, got ${options.target}`);
    if (!(options.tolerance >= 0 && options.tolerance < 1)) throw new UsageError(`--tolerance must be in [0, 1), got ${options.tolerance}`);
    if (options.rounds !== undefined && !(Number.isInteger(options.rounds) && options.rounds >= MIN_ROUNDS))
      throw new UsageError(
        `--rounds must be an integer >= ${MIN_ROUNDS} (the fewest rounds with a 95% interval of the speedup), got ${options.rounds}`,
      );
    const { loadModelCheckpoint } = await import('@ziplm/models/io');
    const { loadLatencyTable, predictRuntime } = await import('@ziplm/latency');
    const { verifySpeedup, ortFingerprint } = await import('@ziplm/latency/measure');
    const { readCheckedMember } = await import('@ziplm/pipeline');
    const denseDir = resolveModelDir(options.dense, io.cwd);
    const { checkpoint: dense } = await loadModelCheckpoint(denseDir);
    const memberDir = resolveModelDir(options.model, io.cwd);
    // A member of a run: its files must be the ones it was written with (RunDirectoryError, exit 3).
    const record = await readCheckedMember(memberDir);
    const { checkpoint: pruned } = await loadModelCheckpoint(memberDir);
    const shippedOnnx = join(memberDir, 'model.onnx');
    const { table, warnings } = await loadLatencyTable(resolve(io.cwd, options.table), {
      model: dense.config,
      fingerprint: await ortFingerprint(),
    });
    if (table.environment.engine !== 'onnxruntime-node') {
      // A browser table (onnxruntime-web) describes the visitor's device: this process cannot time it, the page can.
      const e = table.environment;
      throw new UsageError(
        `${options.table} was measured with ${e.engine}${e.backend ? ` (${e.backend})` : ''} in a browser; ziplm verify times with onnxruntime-node on this machine. ` +
          `Re-time the member in that browser: export the dense model (ziplm export --model ${options.dense} --out dense.onnx), then give dense.onnx, ` +
          `${shippedOnnx} and ${options.table} to "Verify in this browser" on the docs site's Measure this device page (/measure)`,
      );
    }
    const report = progressReporter(io, options.json);
    for (const w of warnings) report({ kind: 'warning', message: w.message });
    let target = options.target;
    if (target === undefined) {
      let member: unknown;
      try {
        member = JSON.parse(await readFile(resolve(memberDir, 'member.json'), 'utf8'));
      } catch {
        throw new UsageError(`--target is needed: ${memberDir} has no member.json`);
      }
      if (!(typeof member === 'object' && member !== null && 'target' in member && typeof member.target === 'number')) {
        throw new UsageError(`--target is needed: ${memberDir}/member.json has no numeric target`);
      }
      target = member.target;
    }
    const predicted = predictRuntime(table, pruned.config).speedup;
    report({ kind: 'stage', message: `timing dense and pruned models (${table.environment.mode}, batch ${table.environment.batchSize})` });
    // The shipped graph when there is one (a member's, checked above when it has a record); a bare
    // checkpoint directory without model.onnx is exported for the table's environment.
    const timed = existsSync(shippedOnnx)
      ? { onnx: new Uint8Array(await readFile(shippedOnnx)), vocabSize: pruned.config.vocabSize }
      : pruned;
    if ('onnx' in timed) {
      // An INT8 graph timed against an FP32 table (or the reverse) would be judged by the wrong level times.
      const graphPrecision = await precisionOfGraph(timed.onnx);
      const tablePrecision = table.environment.precision ?? 'fp32';
      if (graphPrecision !== tablePrecision)
        throw new UsageError(
          `${shippedOnnx} is an ${graphPrecision} graph but ${options.table} is an ${tablePrecision} latency table; verify it against a table of its own precision (ziplm latency --precision ${graphPrecision})`,
        );
    }
    if (!record && existsSync(shippedOnnx))
      report({
        kind: 'warning',
        message: `${memberDir} has no member.json: timing ${shippedOnnx} without checking it against recorded hashes`,
      });
    const result = await verifySpeedup({
      dense,
      pruned: timed,
      env: table.environment,
      table,
      target,
      predicted,
      tolerance: options.tolerance,
      ...(options.rounds !== undefined ? { minRounds: options.rounds, maxRounds: options.rounds } : {}),
    });
    if (options.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
    else {
      io.stdout(`${result.message}\n`);
      if (result.status !== 'pass') {
        const command = retimeCommand(
          {
            modelDir: denseDir,
            memberDir,
            tableFile: resolve(io.cwd, options.table),
            ...(options.target !== undefined ? { target: options.target } : {}),
            tolerance: options.tolerance,
          },
          retimeRounds(result.pruned.samples),
        );
        io.stdout(
          `${result.status === 'fail' ? 'fail' : 'inconclusive (exit code 0)'}: a timing check of the speedup; re-time it with more rounds, on a quieter machine: ${command}\n`,
        );
      }
    }
    // Exit 5 only on a real miss: an inconclusive verdict (the interval straddles the bound) is not one.
    return result.status === 'fail' ? EXIT.checkFailed : EXIT.ok;
  },
});

/** The number format of an exported graph, from its `ziplm.graph` metadata ('fp32' when it records no quantization). */
async function precisionOfGraph(onnx: Uint8Array): Promise<'fp32' | 'int8-dynamic' | 'int8-static'> {
  const { decodeModel } = await import('@ziplm/onnx');
  const recorded = decodeModel(onnx).metadata?.['ziplm.graph'];
  let graph: { quantization?: { activations?: unknown } } = {};
  try {
    graph = recorded ? (JSON.parse(recorded) as typeof graph) : {};
  } catch {
    return 'fp32';
  }
  const activations = graph.quantization?.activations;
  return activations === 'dynamic' ? 'int8-dynamic' : activations === 'static' ? 'int8-static' : 'fp32';
}
