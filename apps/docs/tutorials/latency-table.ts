// Tutorial 3: build a latency table for your device, predict a pruned shape's speedup from it, and
// verify a pruned model against it by re-timing. The page (tutorials/latency-table.md) shows the
// regions of this file and of latency-table.sh; test/e2e/latency-table.test.ts runs both on the built-in
// tiny BERT.

// #region imports
import { pathToFileURL } from 'node:url';
import { ffnLevels } from '@ziplm/hessian';
import { inferenceEnvironment, loadLatencyTable, predictRuntime, saveLatencyTable, type LatencyTable } from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint, verifySpeedup, type BuildTableOptions, type VerificationReport } from '@ziplm/latency/measure';
import { loadModelDir, saveCheckpoint, shrinkWeights, type ModelDir } from '@ziplm/models';
// #endregion imports

// #region build
/** The protocol settings of buildLatencyTable a reader may change (rounds). The test uses fewer rounds. */
export type TableProtocol = Pick<BuildTableOptions, 'minRounds' | 'maxRounds'>;

/** Step 1: times the model's shape in onnxruntime, in the environment the speedups are promised for. */
export async function measureTable(dense: ModelDir, tableFile: string, protocol: TableProtocol = {}): Promise<void> {
  // Batch 1, 128 tokens, 2 onnxruntime threads: the environment the speedups will be promised for.
  const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 128, threads: 2 });
  const built = await buildLatencyTable(dense.checkpoint.config, env, {
    ...protocol,
    onProgress: (p) => {
      if (p.phase === 'rounds' && p.round % 10 === 0) console.log(`round ${p.round}: ${p.active} configurations still timed`);
    },
  });
  await saveLatencyTable(tableFile, built);
}
// #endregion build

// #region load
/** Step 2: reads the table back, checked field by field against the model and this device. */
export async function loadTable(dense: ModelDir, tableFile: string): Promise<LatencyTable> {
  // A table measured for another shape is an error; one measured on another device loads with a
  // warning (its times may not hold here).
  const { table, warnings } = await loadLatencyTable(tableFile, { model: dense.checkpoint.config, fingerprint: await ortFingerprint() });
  for (const w of warnings) console.warn(`warning: ${w.message}`);
  console.log(`dense ${table.dense.median.toFixed(3)} ms, of which ${table.prunable.toFixed(3)} ms in prunable modules`);
  return table;
}
// #endregion load

// #region predict
/** A pruned shape: heads and FFN neurons kept per layer. */
export interface Shape {
  readonly layerHeads: number[];
  readonly layerIntermediate: number[];
}

/** Step 3: a hand-picked shape (half of the heads, the grid level nearest a quarter of the FFN) and its predicted speedup. */
export function predictHalfShape(table: LatencyTable): { shape: Shape; predicted: number } {
  const { numLayers, numHeads, intermediateSize } = table.model;
  const neurons = ffnLevels(intermediateSize).reduce((best, k) =>
    Math.abs(k - intermediateSize / 4) < Math.abs(best - intermediateSize / 4) ? k : best,
  );
  const shape: Shape = {
    layerHeads: new Array<number>(numLayers).fill(Math.ceil(numHeads / 2)),
    layerIntermediate: new Array<number>(numLayers).fill(neurons),
  };
  const prediction = predictRuntime(table, shape);
  console.log(`predicted ${prediction.time.toFixed(3)} ms, speedup ${prediction.speedup.toFixed(2)}x`);
  return { shape, predicted: prediction.speedup };
}
// #endregion predict

// #region shrink
/** Step 4: a model of that shape, saved as a Hugging Face-style checkpoint. */
export async function buildPrunedModel(dense: ModelDir, shape: Shape, prunedDir: string): Promise<void> {
  // Physically remove the other heads and neurons (here simply the first ones are kept; ZipLM picks
  // them with structured OBS).
  const pruned = shrinkWeights(dense.checkpoint, {
    heads: shape.layerHeads.map((h) => Array.from({ length: h }, (_, i) => i)),
    neurons: shape.layerIntermediate.map((n) => Array.from({ length: n }, (_, i) => i)),
  });
  await saveCheckpoint(prunedDir, pruned, { tokenizer: dense.tokenizer });
}
// #endregion shrink

// #region verify
/** Step 5: re-times dense and pruned model in one interleaved protocol, in the table's environment. */
export async function verifyPrunedModel(
  dense: ModelDir,
  prunedDir: string,
  table: LatencyTable,
  predicted: number,
): Promise<VerificationReport> {
  const { checkpoint: pruned } = await loadModelDir(prunedDir);
  // The target is the table's own prediction: does the model deliver what the table promised?
  const target = Math.floor(predicted * 100) / 100;
  const report = await verifySpeedup({ dense: dense.checkpoint, pruned, env: table.environment, table, target, predicted });
  console.log(report.message); // target …x, measured …x (±…), predicted …x: PASS, FAIL or INCONCLUSIVE
  return report;
}
// #endregion verify

// #region run
export interface LatencyTutorialOptions {
  /** The dense model (only its shape matters for the table). */
  modelDir: string;
  /** Where to write the table. */
  tableFile: string;
  /** Where to write the pruned model. */
  prunedDir: string;
  /** Protocol settings passed to buildLatencyTable as they are. The test uses fewer rounds; leave it out. */
  protocol?: TableProtocol;
}

export interface LatencyTutorialResult extends Shape {
  readonly table: LatencyTable;
  readonly predicted: number;
  readonly report: VerificationReport;
}

/** The five steps in order. */
export async function latencyTutorial({
  modelDir,
  tableFile,
  prunedDir,
  protocol = {},
}: LatencyTutorialOptions): Promise<LatencyTutorialResult> {
  const dense = await loadModelDir(modelDir);
  await measureTable(dense, tableFile, protocol);
  const table = await loadTable(dense, tableFile);
  const { shape, predicted } = predictHalfShape(table);
  await buildPrunedModel(dense, shape, prunedDir);
  const report = await verifyPrunedModel(dense, prunedDir, table, predicted);
  return { table, ...shape, predicted, report };
}
// #endregion run

// #region usage
/** The tutorial on your own model. The test runs latencyTutorial on tiny-bert. */
export async function example(): Promise<void> {
  const { report } = await latencyTutorial({
    modelDir: './bert-base-uncased',
    tableFile: 'bert-base.latency.json',
    prunedDir: 'bert-base-half',
  });
  process.exitCode = report.status === 'fail' ? 5 : 0;
}

// Run as a script (`pnpm exec tsx --conditions=@ziplm/source latency-table.ts`); importing it runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await example();
// #endregion usage
