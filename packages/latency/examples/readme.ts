import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bertConfig } from '@ziplm/models';
import { inferenceEnvironment, loadLatencyTable, predictRuntime, saveLatencyTable } from '@ziplm/latency';
import { buildLatencyTable, ortFingerprint } from '@ziplm/latency/measure';

// A small BERT shape so that the example takes seconds; a real table uses the model's own config.
const config = bertConfig({ vocabSize: 512, hiddenSize: 64, numLayers: 2, numHeads: 4, intermediateSize: 256, maxPositions: 64 });
const env = inferenceEnvironment({ mode: 'latency', sequenceLength: 32 }); // batch 1, 2 threads
const table = await buildLatencyTable(config, env, { minRounds: 3, maxRounds: 5, calibrationModels: 0 });
const file = join(tmpdir(), 'ziplm-example.latency.json');
await saveLatencyTable(file, table);

const { table: loaded, warnings } = await loadLatencyTable(file, { model: config, fingerprint: await ortFingerprint() });
for (const w of warnings) console.warn(w.message);
// Half of the heads and about half of the FFN in every layer (FFN sizes are levels of the solver's grid,
// ffnLevels(256) = 256, 230, 207, …, 136, 122, …): the predicted time and speedup over the dense model.
const p = predictRuntime(loaded, { layerHeads: [2, 2], layerIntermediate: [122, 122] });
console.log(`dense ${loaded.dense.median.toFixed(3)} ms, pruned ${p.time.toFixed(3)} ms, predicted speedup ${p.speedup.toFixed(2)}x`);
