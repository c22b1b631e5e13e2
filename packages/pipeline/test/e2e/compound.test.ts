// Compound compression end to end on the built-in tiny BERT (guide/compound-compression.md): the INT8
// latency table with its FP32 reference, members compressed by SparseGPT + GPTQ (and QAT in a gradual
// run), shipped as INT8 graphs and checkpoints on the INT8 grid, verified against the dense FP32 model,
// reported; then resumed without recomputing anything.

import { existsSync, mkdtempSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir, loadModelDir, quantizableLinears } from '@ziplm/models';
import { decodeModel } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import { runGradual, type GradualOptions } from '../../src/gradual.js';
import { runOneShot, type OneShotOptions } from '../../src/oneshot.js';
import { checkRunOptions } from '../../src/run.js';
import { OptionsError, RunDirectoryError } from '../../src/errors.js';

const opTypes = async (file: string) => new Set(decodeModel(new Uint8Array(await readFile(file))).graph.nodes.map((n) => n.opType));

/**
 * The member's checkpoint holds exactly the weights its INT8 graph computes with: every quantized
 * linear's weight equals q · scale of the graph's INT8 initializer (`<name>_int8`, [in, out], with
 * `<name>_scale` [out]; BERT's Q, K and V are one `…qkv.weight` initializer, in that order), element by
 * element, in the checkpoint's own layout.
 */
async function expectCheckpointMatchesGraph(dir: string): Promise<void> {
  const { checkpoint } = await loadModelDir(dir);
  const graph = decodeModel(new Uint8Array(await readFile(join(dir, 'model.onnx')))).graph;
  const tensors = new Map(graph.initializers.map((t) => [t.name ?? '', t]));
  const linears = quantizableLinears(checkpoint.config);
  expect(linears.length).toBeGreaterThan(0);
  for (const linear of linears) {
    const fused = linear.weight.replace(/\.(query|key|value)\.weight$/, '.qkv.weight');
    const part = ['query', 'key', 'value'].findIndex((p) => linear.weight.endsWith(`.${p}.weight`));
    const offset = fused === linear.weight ? 0 : part * linear.rows;
    const q = tensors.get(`${fused}_int8`)!.data as Int8Array;
    const scales = tensors.get(`${fused}_scale`)!.data as Float32Array;
    const out = scales.length;
    const w = checkpoint.weights.get(linear.weight)!.data;
    for (let r = 0; r < linear.rows; r++) {
      for (let c = 0; c < linear.cols; c++) {
        const expected = Math.fround(q[c * out + offset + r]! * scales[offset + r]!);
        const actual = linear.layout === 'out-in' ? w[r * linear.cols + c]! : w[c * linear.rows + r]!;
        if (actual !== expected) expect(`${linear.weight}[${r}, ${c}] = ${actual}`).toBe(`${linear.weight}[${r}, ${c}] = ${expected}`);
      }
    }
  }
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

  it('an INT8 table is refused by an FP32 run, and QAT by a one-shot run, naming the option', async () => {
    const { compound: _c, ...fp32 } = options;
    await expect(
      runOneShot({ ...fp32, runDir: mkdtempSync(join(tmpdir(), 'ziplm-compound-fp32-')), tablePath: join(runDir, 'latency-table.json') }),
    ).rejects.toThrow(/another environment \(precision: table "int8-dynamic", run "fp32"\)/);
    await expect(runOneShot({ ...options, compound: { quantize: 'int8', qatEpochs: 1 } })).rejects.toThrow(/compound\.qatEpochs/);
  });

  it('resumes without compressing anything again', async () => {
    // An inconclusive timing verdict is re-timed on resume (verify.ts); the compression is not redone.
    const before = JSON.parse(await readFile(join(runDir, 'results.json'), 'utf8'));
    const stages = new Set<string>();
    const again = await runOneShot({ ...options, onEvent: (e) => e.kind === 'stage' && stages.add(e.stage) });
    expect(stages.has('quantize')).toBe(false);
    expect(again.members.map((m) => [m.compound, m.metric, m.layerHeads, m.layerIntermediate])).toEqual(
      before.members.map((m: (typeof again.members)[number]) => [m.compound, m.metric, m.layerHeads, m.layerIntermediate]),
    );
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
    // A changed FP32 model is refused on resume, naming the file: the family would continue from other weights.
    const first = join(runDir, 'steps', results.members[0]!.dir.split('/').at(-1)!, 'fp32', 'model.safetensors');
    await appendFile(first, new Uint8Array([0]));
    await expect(runGradual(options)).rejects.toThrow(RunDirectoryError);
    await expect(runGradual(options)).rejects.toThrow(/fp32[\\/]model\.safetensors/);
  });
});

describe('runOneShot with compound compression on GPT2 (Conv1D weights, [in, out])', () => {
  it('ships static INT8 members with sparse weights that match the graph element by element', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'ziplm-compound-gpt2-'));
    const results = await runOneShot({
      modelDir: builtinModelDir('tiny-gpt2'),
      runDir,
      targets: [1.5],
      task: 'samples',
      calibrationSamples: 16,
      engine: 'js',
      spdy: false,
      tableRounds: { minRounds: 3, maxRounds: 5 },
      verify: false,
      compound: { quantize: 'int8', activations: 'static', sparsity: 0.5 },
    });
    const [member] = results.members;
    expect(member!.compound!.precision).toBe('int8-static');
    expect(member!.compound!.sparsity).toBeGreaterThanOrEqual(0.5);
    const ops = await opTypes(join(runDir, member!.dir, 'model.onnx'));
    expect(ops.has('QuantizeLinear') && ops.has('DequantizeLinear')).toBe(true);
    await expectCheckpointMatchesGraph(join(runDir, member!.dir));
  });
});
