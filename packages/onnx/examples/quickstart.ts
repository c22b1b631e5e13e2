import { GraphBuilder } from '@ziplm/onnx';
import { createOrtMatMulEngine, createSession, loadOrt } from '@ziplm/onnx/runtime';

// 1. Write a graph: y = relu(x·W + b), with a symbolic batch dimension.
const g = new GraphBuilder('dense_relu');
const x = g.input('x', 'float32', ['batch', 3]);
const w = g.initializer('w', 'float32', [3, 2], new Float32Array([1, -1, 0.5, 2, -2, 0]));
const b = g.initializer('b', 'float32', [2], new Float32Array([0.1, -0.1]));
const y = g.op('Relu', [g.op('Add', [g.op('MatMul', [x, w]), b])]);
g.output(y, 'float32', ['batch', 2], 'y');
const bytes = g.toBytes(); // a complete .onnx file (opset 17, IR 8)

// 2. Run it in onnxruntime-node (loaded lazily, telemetry off).
const ort = await loadOrt();
const session = await createSession(bytes, { threads: 1 });
const { y: out } = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]) });
console.log(out!.dims, out!.data); // [2, 2] Float32Array [0, 2.9, 0, 5.9]
await session.release();

// 3. Use onnxruntime as a GEMM engine: C = A·Bᵀ (B stored n×k).
const engine = await createOrtMatMulEngine();
const c = await engine.matmulF64(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), 2, 2, 2, { transB: true });
console.log(c); // Float64Array [17, 23, 39, 53]
await engine.dispose();
