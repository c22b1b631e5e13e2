// Compound compression end to end on the built-in tiny BERT (guide/compound-compression.md): the INT8
// latency table with its FP32 reference, members compressed by SparseGPT + GPTQ (and QAT in a gradual
// run), shipped as INT8 graphs and checkpoints on the INT8 grid, verified against the dense FP32 model,
// reported; then resumed without recomputing anything.

import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir, quantizableLinears } from '@ziplm/models';
import { decodeModel } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import { runGradual, type GradualOptions } from '../../src/gradual.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import { checkRunOptions } from '../../src/run.js';
import { OptionsError } from '../../src/errors.js';

const opTypes = async (file: string) => new Set(decodeModel(new Uint8Array(await readFile(file))).graph.nodes.map((n) => n.opType));

/**
 * The member's checkpoint holds exactly the weights its INT8 graph computes with: Σ|w|, Σw² and the
 * count of zeros over the quantized linears equal those of q · scale over the graph's INT8 initializers
 * (`<name>_int8` [in, out] with `<name>_scale` [out]). Weights off the INT8 grid would not match.
 */
async function expectCheckpointMatchesGraph(dir: string): Promise<void> {
  const { checkpoint } = await loadModelDir(dir);
  const graph = decodeModel(new Uint8Array(await readFile(join(dir, 'model.onnx')))).graph;
  const tensors = new Map(graph.initializers.map((t) => [t.name, t]));
  const sums = { abs: 0, squares: 0, zeros: 0 };
  for (const t of graph.initializers) {
    const name = t.name ?? '';
    if (!name.endsWith('_int8')) continue;
    const q = t.data as Int8Array;
    const scales = tensors.get(`${name.slice(0, -'_int8'.length)}_scale`)!.data as Float32Array;
    const out = scales.length;
    for (let i = 0; i < q.length; i++) {
      const w = Math.fround(q[i]! * scales[i % out]!);
      sums.abs += Math.abs(w);
      sums.squares += w * w;
      if (w === 0) sums.zeros++;
    }
  }
  const expected = { abs: 0, squares: 0, zeros: 0 };
  for (const linear of quantizableLinears(checkpoint.config)) {
    for (const w of checkpoint.weights.get(linear.weight)!.data) {
      expected.abs += Math.abs(w);
      expected.squares += w * w;
      if (w === 0) expected.zeros++;
    }
  }
  expect(sums.zeros).toBe(expected.zeros);
  expect(sums.abs).toBeCloseTo(expected.abs, 6);
  expect(sums.squares).toBeCloseTo(expected.squares, 8);
}

describe('compound options', () => {
  const base = { modelDir: 'm', runDir: 'r', targets: [2] };
  it('sets the INT8 precision of the environment and fills in the defaults', () => {
    const checked = checkRunOptions({ ...base, compound: { quantize: 'int8' } });
    expect(checked.env.precision).toBe('int8-dynamic');
    expect(checked.compound).toEqual({ method: 'gptq', activations: 'dynamic', sparsity: 0, qatEpochs: 0 });
    expect(checkRunOptions({ ...base, compound: { quantize: 'int8', activations: 'static' } }).env.precision).toBe('int8-static');
    expect(checkRunOptions(base).env.precision).toBeUndefined();
  });
  it('refuses bad settings naming the option', () => {
    const refused = (options: object, field: RegExp) => {
      expect(() => checkRunOptions({ ...base, ...options })).toThrow(OptionsError);
      expect(() => checkRunOptions({ ...base, ...options })).toThrow(field);
    };
    refused({ compound: { quantize: 'int4' } }, /compound\.quantize/);
    refused({ compound: { quantize: 'int8', sparsity: 1 } }, /compound\.sparsity/);
    refused({ compound: { quantize: 'int8', sparsity: -0.1 } }, /compound\.sparsity/);
    refused({ compound: { quantize: 'int8', method: 'awq' } }, /compound\.method/);
    refused({ compound: { quantize: 'int8', qatEpochs: 1.5 } }, /compound\.qatEpochs/);
    refused({ environment: { precision: 'int8-dynamic' } }, /environment\.precision/);
  });
});

describe('runOneShot with compound compression', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'ziplm-compound-oneshot-'));
  const options: OneShotOptions = {
    modelDir: builtinModelDir('tiny-bert'),
    runDir,
    targets: [2],
    task: 'samples',
    calibrationSamples: 16,
    engine: 'js',
    spdy: false,
    tableRounds: { minRounds: 3, maxRounds: 5 },
    retarget: 0,
    compound: { quantize: 'int8', sparsity: 0.5 },
  };

  it('ships sparse INT8 members timed against the dense FP32 model, and reports each step', async () => {
    const results = await runOneShot(options);
    const table = JSON.parse(await readFile(join(runDir, 'latency-table.json'), 'utf8'));
    expect(table.environment.precision).toBe('int8-dynamic');
    expect(results.dense.timeMs).toBe(table.reference.median);
    expect(results.dense.int8TimeMs).toBe(table.dense.median);
    expect(results.environment).toContain('int8-dynamic');
    const [member] = results.members;
    const c = member!.compound!;
    expect(c.precision).toBe('int8-dynamic');
    expect(c.shipped).toBe('gptq');
    expect(c.sparsity).toBeGreaterThanOrEqual(0.5);
    expect(Object.keys(c.metrics).sort()).toEqual(['fp32', 'gptq', 'rtn', 'sparse']);
    expect(member!.metric).toBe(c.metrics.gptq);
    expect(c.errors.gptq).toBeLessThanOrEqual(c.errors.rtn);
    expect(c.weightBytes.int8).toBeLessThan(c.weightBytes.fp32 / 3);
    expect(c.weightBytes.sparseInt8).toBeLessThan(c.weightBytes.int8);
    expect(c.onnxGzipBytes).toBeGreaterThan(0);
    expect(member!.measuredSpeedup).toBeGreaterThan(0);
    // The shipped graph is INT8; its checkpoint holds the same weights (on the INT8 grid, half of them 0).
    const ops = await opTypes(join(runDir, member!.dir, 'model.onnx'));
    expect(ops.has('DynamicQuantizeLinear') && ops.has('MatMulInteger')).toBe(true);
    await expectCheckpointMatchesGraph(join(runDir, member!.dir));
    const report = await readFile(join(runDir, 'report.md'), 'utf8');
    expect(report).toContain('## Compound compression (int8-dynamic)');
  });

  it('resumes without recomputing anything', async () => {
    const before = await readFile(join(runDir, 'results.json'), 'utf8');
    const stages = new Set<string>();
    await runOneShot({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect(stages.has('quantize')).toBe(false);
    expect(await readFile(join(runDir, 'results.json'), 'utf8')).toBe(before);
  });
});

describe('runGradual with compound compression and QAT', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'ziplm-compound-gradual-'));
  const options: GradualOptions = {
    modelDir: builtinModelDir('tiny-bert'),
    runDir,
    targets: [1.5, 2],
    task: 'samples',
    calibrationSamples: 16,
    engine: 'js',
    spdy: false,
    tableRounds: { minRounds: 3, maxRounds: 5 },
    verify: false,
    fineTune: { epochs: 1, batchSize: 8, learningRate: 1e-3 },
    compound: { quantize: 'int8', activations: 'static', qatEpochs: 1 },
  };

  it('fine-tunes each INT8 member on its grid and continues the family from the FP32 models', async () => {
    const results = await runGradual(options);
    expect(results.members).toHaveLength(2);
    for (const m of results.members) {
      expect(m.compound!.shipped).toBe('qat');
      expect(m.compound!.metrics.qat).toBe(m.metric);
      expect(Object.keys(m.compound!.metrics).sort()).toEqual(['fp32', 'gptq', 'qat', 'rtn']);
      const ops = await opTypes(join(runDir, m.dir, 'model.onnx'));
      expect(ops.has('QuantizeLinear') && ops.has('DequantizeLinear')).toBe(true);
      await expectCheckpointMatchesGraph(join(runDir, m.dir));
      // The next step starts from this FP32 model, not from the INT8 member.
      const name = m.dir.split('/').at(-1)!;
      const fp32 = join(runDir, 'steps', name, 'fp32');
      expect(existsSync(join(fp32, 'model.safetensors'))).toBe(true);
      const { checkpoint } = await loadModelDir(fp32);
      expect(checkpoint.config.layerHeads).toEqual(m.layerHeads);
    }
    const stages = new Set<string>();
    const again = await runGradual({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect(stages.has('fine-tune') || stages.has('quantize')).toBe(false);
    expect(JSON.parse(JSON.stringify(again))).toEqual(JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8')));
  });
});
