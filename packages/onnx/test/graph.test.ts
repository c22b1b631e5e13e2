import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonWithOnnx } from '@ziplm/test-utils';
import { attr, decodeModel, GraphBuilder, OnnxDecodeError, OnnxGraphError } from '../src/index.js';

/** A graph that uses every attribute kind, symbolic and fixed dims, and float32/float64/int64 initializers. */
function sampleGraph(): GraphBuilder {
  const g = new GraphBuilder('sample');
  const x = g.input('x', 'float32', ['batch', 3]);
  const ids = g.input('ids', 'int64', ['batch']);
  const w = g.initializer('w', 'float32', [3, 2], new Float32Array([1, 2, 3, 4, 5, 6]));
  const table = g.initializer('table', 'float32', [4, 2], [0.5, -1, 2, 3, 4, 5, 6, 7]);
  const d = g.initializer('d', 'float64', [2], new Float64Array([0.25, 1e-300]));
  const y = g.op('Gemm', [x, w], { alpha: attr.float(2), beta: 1.5, transB: 0 });
  const e = g.op('Gather', [table, ids], { axis: 0 });
  const s = g.op('Add', [y, e]);
  const t = g.op('Transpose', [s], { perm: [1, 0] });
  const c = g.op('Constant', [], { value: attr.tensor({ dataType: 'int64', dims: [2], data: new BigInt64Array([-1n, 2n]) }) });
  g.op('Identity', [d]);
  g.node('Concat', [c, c], { axis: -1 }, { outputs: ['cc'] });
  g.op('Cast', [t], { to: 11 }, { name: 'cast_to_double', outputs: ['t64'] });
  g.output('t64', 'float64', [2, 'batch']);
  g.output('cc', 'int64', [4]);
  return g;
}

describe('GraphBuilder', () => {
  it('encodes a model that decodes back to the same graph', () => {
    const g = sampleGraph();
    const bytes = g.toBytes({ metadata: { 'ziplm.test': 'yes' }, producerVersion: '0.0.0' });
    const model = decodeModel(bytes);
    expect(model.irVersion).toBe(8);
    expect(model.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(model.producerName).toBe('@ziplm/onnx');
    expect(model.metadata).toEqual({ 'ziplm.test': 'yes' });
    const graph = model.graph;
    expect(graph.inputs).toEqual([
      { name: 'x', dataType: 'float32', dims: ['batch', 3] },
      { name: 'ids', dataType: 'int64', dims: ['batch'] },
    ]);
    expect(graph.outputs).toEqual([
      { name: 't64', dataType: 'float64', dims: [2, 'batch'] },
      { name: 'cc', dataType: 'int64', dims: [4] },
    ]);
    expect(graph.initializers.map((t) => [t.name, t.dataType, t.dims])).toEqual([
      ['w', 'float32', [3, 2]],
      ['table', 'float32', [4, 2]],
      ['d', 'float64', [2]],
    ]);
    expect(graph.initializers[2]!.data).toEqual(new Float64Array([0.25, 1e-300]));
    expect(graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Gather', 'Add', 'Transpose', 'Constant', 'Identity', 'Concat', 'Cast']);
    const gemm = graph.nodes[0]!;
    expect(gemm.attributes).toEqual({
      alpha: { type: 'float', value: 2 },
      beta: { type: 'float', value: 1.5 },
      transB: { type: 'int', value: 0 },
    });
    expect(graph.nodes[3]!.attributes!.perm).toEqual({ type: 'ints', value: [1, 0] });
    expect(graph.nodes[6]!.attributes!.axis).toEqual({ type: 'int', value: -1 });
    const constant = graph.nodes[4]!.attributes!.value!;
    expect(constant.type).toBe('tensor');
    expect(constant.type === 'tensor' && constant.value.data).toEqual(new BigInt64Array([-1n, 2n]));
    expect(graph.nodes[7]!.name).toBe('cast_to_double');
  });

  it('shares small constants and hands out unique names', () => {
    const g = new GraphBuilder('consts');
    const a = g.scalar(0.5);
    const b = g.scalar(0.5);
    const c = g.scalar(0.5, 'float64');
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const x = g.input('x', 'float32', [2]);
    const y1 = g.op('Mul', [x, a]);
    const y2 = g.op('Mul', [y1, a]);
    expect(y1).not.toBe(y2);
    const scoped = g.scope('layer.0', () => g.op('Relu', [y2]));
    expect(scoped).toBe('layer.0/Relu');
    const out = g.output(x, 'float32', [2], 'x_copy');
    expect(out).toBe('x_copy');
    expect(g.toGraph().nodes.at(-1)!.opType).toBe('Identity');
  });

  it('reports mistakes where they are made, naming the graph', () => {
    const g = new GraphBuilder('broken');
    g.input('x', 'float32', [2]);
    expect(() => g.op('Relu', ['nope'])).toThrow(OnnxGraphError);
    expect(() => g.op('Relu', ['nope'])).toThrow(/ONNX graph "broken": node "Relu" \(Relu\): input "nope" is not defined yet/);
    expect(() => g.input('x', 'float32', [2])).toThrow(/already defined/);
    expect(() => g.initializer('w', 'float32', [2, 2], new Float32Array(3))).toThrow(/3 elements do not fit dims \[2, 2\]/);
    expect(() => g.initializer('w', 'float32', [3], new Float64Array(3) as unknown as Float32Array)).toThrow(/must be a Float32Array/);
    expect(() => g.op('Foo', ['x'], { bad: [] as number[] })).toThrow(/empty list/);
    expect(() => new GraphBuilder('empty').toBytes()).toThrow(/has no outputs/);
  });

  it('decoder rejects malformed bytes with a typed error naming the source', () => {
    expect(() => decodeModel(new Uint8Array([0x3a, 0x10, 0x01]), 'model.onnx')).toThrow(OnnxDecodeError);
    expect(() => decodeModel(new Uint8Array([0x3a, 0x10, 0x01]), 'model.onnx')).toThrow(/^model\.onnx: /);
    expect(() => decodeModel(new Uint8Array([0x08, 0x08]), 'm.onnx')).toThrow(/graph is missing/);
  });
});

const python = pythonWithOnnx();

describe('cross-check with the onnx Python package', () => {
  it.skipIf(!python)('onnx.checker accepts the model and onnx reads the same graph', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-onnx-'));
    try {
      const file = join(dir, 'sample.onnx');
      writeFileSync(file, sampleGraph().toBytes());
      const script = [
        'import sys, json, onnx',
        'from onnx import numpy_helper',
        'm = onnx.load(sys.argv[1])',
        'onnx.checker.check_model(m, full_check=True)',
        'g = m.graph',
        'attrs = {a.name: onnx.helper.get_attribute_value(a) for a in g.node[0].attribute}',
        'print(json.dumps({"ops": [n.op_type for n in g.node], "attrs": {k: v for k, v in attrs.items()},',
        '  "inputs": [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in g.input],',
        '  "w": numpy_helper.to_array(g.initializer[0]).tolist(), "d": numpy_helper.to_array(g.initializer[2]).tolist(),',
        '  "c": numpy_helper.to_array(g.node[4].attribute[0].t).tolist(), "perm": list(g.node[3].attribute[0].ints)}))',
      ].join('\n');
      const out = JSON.parse(execFileSync(python!, ['-c', script, file], { encoding: 'utf8' }));
      expect(out.ops).toEqual(['Gemm', 'Gather', 'Add', 'Transpose', 'Constant', 'Identity', 'Concat', 'Cast']);
      expect(out.attrs).toEqual({ alpha: 2, beta: 1.5, transB: 0 });
      expect(out.inputs).toEqual([['batch', 3], ['batch']]);
      expect(out.w).toEqual([
        [1, 2],
        [3, 4],
        [5, 6],
      ]);
      expect(out.d).toEqual([0.25, 1e-300]);
      expect(out.c).toEqual([-1, 2]);
      expect(out.perm).toEqual([1, 0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it.skipIf(python)('skipped: no python3 with the onnx package (apt-get install python3-onnx, or set ZIPLM_PYTHON)', () => {});
});
