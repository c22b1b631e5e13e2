// The metadata of an ONNX model read without decoding its graph (internal/onnx-metadata.ts): the same
// key/value pairs @ziplm/onnx's full decoder finds, and a clear error for bytes that are not protobuf.
import { bertConfig, exportModelToOnnx } from '@ziplm/models';
import { decodeModel, GraphBuilder } from '@ziplm/onnx';
import { describe, expect, it } from 'vitest';
import { readOnnxMetadata } from '../src/internal/onnx-metadata.js';
import { timingCheckpoint } from '../src/measure/index.js';

describe('readOnnxMetadata', () => {
  it('reads what decodeModel reads, without the graph', () => {
    const config = bertConfig({ hiddenSize: 16, numHeads: 4, intermediateSize: 32, numLayers: 2, vocabSize: 50, maxPositions: 16 });
    const bytes = exportModelToOnnx(timingCheckpoint(config));
    const metadata = readOnnxMetadata(bytes);
    expect(Object.fromEntries(metadata)).toEqual(decodeModel(bytes).metadata);
    expect(JSON.parse(metadata.get('ziplm.graph')!)).toMatchObject({ kind: 'model', mode: 'full' });
    // A key that is special to plain objects stays a key.
    const g = new GraphBuilder('g');
    g.output(g.op('Identity', [g.input('x', 'float32', [1])]), 'float32', [1], 'y');
    expect(readOnnxMetadata(g.toBytes({ metadata: JSON.parse('{"__proto__": "x", "a": "b"}') as Record<string, string> }))).toEqual(
      new Map([
        ['__proto__', 'x'],
        ['a', 'b'],
      ]),
    );
    expect(readOnnxMetadata(g.toBytes()).size).toBe(0);
  });

  it('refuses truncated or foreign bytes', () => {
    const g = new GraphBuilder('g');
    g.output(g.op('Identity', [g.input('x', 'float32', [1])]), 'float32', [1], 'y');
    const bytes = g.toBytes({ metadata: { a: 'b' } });
    expect(() => readOnnxMetadata(bytes.subarray(0, bytes.length - 2))).toThrow(RangeError);
    expect(() => readOnnxMetadata(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(RangeError);
  });
});
