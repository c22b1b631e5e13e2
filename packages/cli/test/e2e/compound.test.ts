// `ziplm prune --quantize int8` (guide/compound-compression.md) in-process on the built-in tiny BERT:
// sparse INT8 members, the compound columns of the results table, an INT8 latency table alone, and
// `ziplm verify` re-timing an INT8 member against the dense FP32 model; a GPT2 compound member's transformers.js
// layout holds its INT8 weights as the decoder-with-past graph.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ziplm-cli-compound-'));
const run = join(dir, 'run');
const fast = ['--model', 'tiny-bert', '--task', 'samples', '--calibration-samples', '16', '--no-spdy', '--engine', 'js'];

describe('ziplm prune --quantize int8', () => {
  it('ships sparse INT8 members and shows each step in the results table', async () => {
    const args = ['prune', ...fast, '--targets', '2', '--run', run, '--retarget', '0', '--quantize', 'int8', '--sparsity', '0.5'];
    const { code, stdout, stderr } = await runCli(args);
    expect(stderr).not.toContain('internal error');
    expect([EXIT.ok, EXIT.checkFailed]).toContain(code);
    expect(stdout).toContain('int8-dynamic');
    expect(stdout).toMatch(/fp32\s+\+sparse\s+int8 rtn\s+int8 gptq\s+sparsity\s+gzip MB/);
    expect(stdout).toMatch(/ziplm\s+2\.00x.*\s(5\d|[6-9]\d)%\s+\d+\.\d\d\n/);
  });

  it('verify re-times an INT8 member against the dense FP32 model of its table', async () => {
    const { code, stdout } = await runCli([
      'verify',
      '--dense',
      'tiny-bert',
      '--model',
      join(run, 'members', 'ziplm-2.00x'),
      '--table',
      join(run, 'latency-table.json'),
      '--json',
    ]);
    expect([EXIT.ok, EXIT.checkFailed]).toContain(code);
    expect(JSON.parse(stdout).measured).toBeGreaterThan(0);
  });

  it('latency --precision int8-static times the dense FP32 model as the reference; verify refuses a table of another precision', async () => {
    const table = join(dir, 'int8.json');
    const built = await runCli([
      'latency',
      '--model',
      'tiny-bert',
      '--precision',
      'int8-static',
      '--out',
      table,
      '--min-rounds',
      '3',
      '--max-rounds',
      '5',
    ]);
    expect(built.code).toBe(EXIT.ok);
    expect(built.stdout).toMatch(/dense FP32 \(the reference\) \d+\.\d+ ms/);
    // The dynamic INT8 member against this static table: the wrong level times, refused before timing.
    const member = join(run, 'members', 'ziplm-2.00x');
    const refused = await runCli(['verify', '--dense', 'tiny-bert', '--model', member, '--table', table]);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toMatch(/is an? int8-dynamic graph but .* is an? int8-static latency table/);
  });

  it('a compound decoder member ships its INT8 weights to transformers.js as an INT8 decoder-with-past graph', async () => {
    const gpt2Run = join(dir, 'gpt2');
    const args = ['prune', '--model', 'tiny-gpt2', '--task', 'samples', '--calibration-samples', '16', '--no-spdy', '--engine', 'js'];
    const { code, stderr } = await runCli([...args, '--targets', '1.5', '--run', gpt2Run, '--retarget', '0', '--quantize', 'int8']);
    expect(stderr).not.toContain('internal error');
    expect([EXIT.ok, EXIT.checkFailed]).toContain(code);
    const member = join(gpt2Run, 'members', 'ziplm-1.50x');
    const graph = (file: string) => decodeModel(readFileSync(join(member, file)), file);
    const layout = graph('onnx/model_quantized.onnx');
    const ops = new Set(layout.graph.nodes.map((n) => n.opType));
    expect(ops.has('DynamicQuantizeLinear') && ops.has('MatMulInteger')).toBe(true);
    const inputs = layout.graph.inputs.map((i) => i.name);
    expect(inputs).toContain('position_ids');
    expect(inputs.some((name) => name.startsWith('past_key_values.'))).toBe(true);
    // Its INT8 weights are the shipped graph's (GPTQ): the same integer initializers.
    const int8 = (m: ReturnType<typeof graph>) =>
      m.graph.initializers
        .filter((t) => t.dataType === 'int8')
        .map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).toString('base64'));
    expect(int8(layout).sort()).toEqual(int8(graph('model.onnx')).sort());
    expect(existsSync(join(member, 'onnx', 'model.onnx'))).toBe(true);
  });

  it('compound flags without --quantize are usage errors', async () => {
    for (const extra of [
      ['--sparsity', '0.5'],
      ['--sparsity', '1.5', '--quantize', 'int8'],
      ['--quant-method', 'rtn'],
      ['--activations', 'static'],
    ]) {
      const { code, stderr } = await runCli(['prune', ...fast, '--targets', '2', '--run', join(dir, 'never'), ...extra]);
      expect(code).toBe(EXIT.usage);
      expect(stderr).toContain(extra[0]);
    }
    const gradual = await runCli(['gradual', ...fast, '--targets', '2', '--run', join(dir, 'never'), '--qat-epochs', '1']);
    expect(gradual.code).toBe(EXIT.usage);
    expect(gradual.stderr).toContain('--qat-epochs needs --quantize int8');
  });
});
