// Tutorial 3: build a latency table for your device, predict a pruned shape's speedup from it, and
// verify a pruned model against it by re-timing. The page (tutorials/latency-table.md) shows the
// regions of this file and of latency-table.sh; test/e2e/latency-table.test.ts runs both on the built-in
// tiny BERT.

// #region imports
import { ffnLevels } from '@ziplm/hessian';
import { inferenceEnvironment, loadLatencyTable, predictRuntime, saveLatencyTable, type LatencyTable } from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint, verifySpeedup, type BuildTableOptions, type VerificationReport } from '@ziplm/latency/measure';
import { loadModelDir, saveCheckpoint, shrinkWeights } from '@ziplm/models';
// #endregion imports

export interface LatencyTutorialOptions {
  /** The dense model (only its shape matters for the table). */
  modelDir: string;
  /** Where to write the table. */
  tableFile: string;
  /** Where to write the pruned model. */
  prunedDir: string;
  /**
   * Protocol settings passed to buildLatencyTable as they are (rounds, precision). The test uses
   * fewer rounds; leave it out.
   */
  protocol?: Pick<BuildTableOptions, 'minRounds' | 'maxRounds'>;
}

export interface LatencyTutorialResult {
  readonly table: LatencyTable;
  readonly layerHeads: number[];
  readonly layerIntermediate: number[];
  readonly predicted: number;
  readonly report: VerificationReport;
}

export async function latencyTutorial({
  modelDir,
  tableFile,
  prunedDir,
  protocol = {},
}: LatencyTutorialOptions): Promise<LatencyTutorialResult> {
  // #region build
  const { checkpoint: dense, tokenizer } = await loadModelDir(modelDir);
  // Batch 1, 128 tokens, 2 onnxruntime threads: the environment the speedups will be promised for.
  const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 128, threads: 2 });
  const built = await buildLatencyTable(dense.config, env, {
    ...protocol,
    onProgress: (p) => {
      if (p.phase === 'rounds' && p.round % 10 === 0) console.log(`round ${p.round}: ${p.active} configurations still timed`);
    },
  });
  await saveLatencyTable(tableFile, built);
  // #endregion build

  // #region load
  // Loading validates every field. A table measured for another shape is an error; one measured on
  // another device loads with a warning (its times may not hold here).
  const { table, warnings } = await loadLatencyTable(tableFile, { model: dense.config, fingerprint: await ortFingerprint() });
  for (const w of warnings) console.warn(`warning: ${w.message}`);
  console.log(`dense ${table.dense.median.toFixed(3)} ms, of which ${table.prunable.toFixed(3)} ms in prunable modules`);
  // #endregion load

  // #region predict
  // A hand-picked shape: half of the heads and the grid level nearest a quarter of the FFN, in every layer.
  const { numLayers, numHeads, intermediateSize } = dense.config;
  const neurons = ffnLevels(intermediateSize).reduce((best, k) =>
    Math.abs(k - intermediateSize / 4) < Math.abs(best - intermediateSize / 4) ? k : best,
  );
  const layerHeads = new Array<number>(numLayers).fill(Math.ceil(numHeads / 2));
  const layerIntermediate = new Array<number>(numLayers).fill(neurons);
  const prediction = predictRuntime(table, { layerHeads, layerIntermediate });
  console.log(`predicted ${prediction.time.toFixed(3)} ms, speedup ${prediction.speedup.toFixed(2)}x`);
  // #endregion predict

  // #region shrink
  // Physically remove the other heads and neurons (here simply the first ones are kept; ZipLM picks
  // them with structured OBS), and save a Hugging Face-style checkpoint.
  const pruned = shrinkWeights(dense, {
    heads: layerHeads.map((h) => Array.from({ length: h }, (_, i) => i)),
    neurons: layerIntermediate.map((n) => Array.from({ length: n }, (_, i) => i)),
  });
  await saveCheckpoint(prunedDir, pruned, { tokenizer });
  // #endregion shrink

  // #region verify
  // Re-time dense and pruned model in one interleaved protocol, in the table's environment. The
  // target here is the table's own prediction: does the model deliver what the table promised?
  const target = Math.floor(prediction.speedup * 100) / 100;
  const report = await verifySpeedup({ dense, pruned, env: table.environment, table, target, predicted: prediction.speedup });
  console.log(report.message); // target …x, measured …x (±…), predicted …x: PASS or FAIL
  // #endregion verify

  return { table, layerHeads, layerIntermediate, predicted: prediction.speedup, report };
}

// #region usage
/** The tutorial on your own model. Type-checked with the rest; the test runs it on tiny-bert. */
export async function example(): Promise<void> {
  const { report } = await latencyTutorial({
    modelDir: './bert-base-uncased',
    tableFile: 'bert-base.latency.json',
    prunedDir: 'bert-base-half',
  });
  process.exitCode = report.status === 'pass' ? 0 : 5;
}
// #endregion usage
