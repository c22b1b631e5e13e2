// OBS on one weight matrix: the README example (run: pnpm exec tsx --conditions=@ziplm/source scripts/example.ts).
import { HessianAccumulator, ffnLevels, obsSweep } from '@ziplm/hessian';

const rows = 64; // output features (nn.Linear weight [out, in])
const cols = 256; // input features = the FFN neurons we prune
const tokens = 2048;

// Calibration inputs of the layer (tokens × cols, float32), e.g. GELU activations captured by a hook.
const random = (): number => Math.random() * 2 - 1;
const inputs = new Float32Array(tokens * cols);
for (let t = 0; t < tokens; t++) {
  for (let c = 0; c < cols; c++) inputs[t * cols + c] = Math.max(0, random() + 0.5 * Math.sin(t + c));
}
const weight = Float32Array.from({ length: rows * cols }, () => random() * 0.1);
const bias = Float32Array.from({ length: rows }, () => random() * 0.1);

// 1. H = (2/n)·Σ x·xᵀ (float64), the input mean and n, streamed in batches (padding can be masked).
const accumulator = new HessianAccumulator(cols);
for (let t = 0; t < tokens; t += 512) await accumulator.add(inputs.subarray(t * cols, (t + 512) * cols), 512);
const { hessian, mean } = await accumulator.finalize();

// 2. Greedy structured OBS, one neuron (column) at a time, snapshots at the paper's FFN grid.
const result = await obsSweep({ weight, rows, cols, hessian, mean, bias }, { levels: ffnLevels(cols), groupSize: 1 });

console.log(`damping ${result.damping.relative} of the mean diagonal, ${result.dead.length} dead inputs`);
for (const snapshot of result.snapshots.slice(0, 6)) {
  // snapshot.weight: rows × kept, the OBS-updated kept columns (snapshot.keptIndices) only.
  console.log(`keep ${String(snapshot.kept).padStart(3)} neurons: relative output error ${snapshot.error.toFixed(4)}`);
}
