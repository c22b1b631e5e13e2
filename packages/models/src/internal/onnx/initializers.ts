// Checkpoint tensors as graph initializers. Hugging Face stores BERT's nn.Linear weights [out, in];
// MatMul wants [in, out], so those are written transposed (suffix `_t`), once, at export time rather
// than as Transpose nodes that every session would have to constant-fold. GPT2's Conv1D weights are
// already [in, out] and are written as they are.

import { transpose } from '@ziplm/core';
import type { GraphBuilder } from '@ziplm/onnx';
import type { Tensor32, WeightMap } from '../../weights.js';
import { OnnxExportError } from '../../onnx/errors.js';

/**
 * dst[c·dstStride + dstOffset + r] = src[r·cols + c]: @ziplm/core's tiled `transpose` under its former
 * name here. Only `structure.ts` still calls it; once that imports `transposed` from @ziplm/core, remove it.
 */
export function transposeInto(
  src: Float32Array,
  rows: number,
  cols: number,
  dst: Float32Array,
  dstStride: number,
  dstOffset: number,
): void {
  transpose(src, rows, cols, dst, { dstStride, dstOffset });
}

/** Adds each checkpoint tensor to the graph at most once, in the layout the graph needs. */
export class Initializers {
  private readonly added = new Map<string, string>();

  constructor(
    private readonly g: GraphBuilder,
    private readonly weights: WeightMap,
    /** Names the export in error messages. */
    readonly what: string,
  ) {}

  /** The checkpoint tensor `name`, checked to have `rank` dimensions. */
  tensor(name: string, rank?: number): Tensor32 {
    const t = this.weights.get(name);
    if (t === undefined) throw new OnnxExportError(this.what, `weight "${name}" is missing from the checkpoint`);
    if (rank !== undefined && t.shape.length !== rank) {
      throw new OnnxExportError(this.what, `weight "${name}" has shape [${t.shape.join(', ')}], expected rank ${rank}`);
    }
    return t;
  }

  /**
   * A tensor derived from checkpoint tensors (transposed, fused, quantized), made by `make` the first
   * time `key` is asked for; later calls return the same value name.
   */
  derived(key: string, make: () => string): string {
    let v = this.added.get(key);
    if (v === undefined) {
      v = make();
      this.added.set(key, v);
    }
    return v;
  }

  /** The tensor as stored (its data is referenced, not copied). */
  asIs(name: string): string {
    return this.derived(name, () => {
      const t = this.tensor(name);
      return this.g.initializer(name, 'float32', t.shape, t.data);
    });
  }

  /** A 2-D [out, in] tensor as [in, out], named `<name>_t`. */
  transposed(name: string): string {
    return this.fusedTransposed(`${name}_t`, [name]);
  }

  /**
   * Several [out_i, in] tensors transposed and concatenated along the output axis: [in, Σ out_i].
   * Used for BERT's Q, K and V, so the three projections are one GEMM (as GPT2's c_attn is).
   */
  fusedTransposed(newName: string, names: readonly string[]): string {
    return this.derived(newName, () => {
      const parts = names.map((n) => this.tensor(n, 2));
      const inDim = parts[0]!.shape[1]!;
      for (const [i, p] of parts.entries()) {
        if (p.shape[1] !== inDim)
          throw new OnnxExportError(this.what, `weight "${names[i]}" has ${p.shape[1]} inputs, "${names[0]}" has ${inDim}`);
      }
      const outDim = parts.reduce((s, p) => s + p.shape[0]!, 0);
      const data = new Float32Array(inDim * outDim);
      let offset = 0;
      for (const p of parts) {
        // Part i fills columns [offset, offset + out_i) of every row of the [in, Σ out_i] result.
        transpose(p.data, p.shape[0]!, inDim, data, { dstStride: outDim, dstOffset: offset });
        offset += p.shape[0]!;
      }
      return this.g.initializer(newName, 'float32', [inDim, outDim], data);
    });
  }

  /** Several 1-D tensors concatenated (the biases matching `fusedTransposed`). */
  concatenated(newName: string, names: readonly string[]): string {
    return this.derived(newName, () => {
      const parts = names.map((n) => this.tensor(n, 1));
      const data = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
      let offset = 0;
      for (const p of parts) {
        data.set(p.data, offset);
        offset += p.data.length;
      }
      return this.g.initializer(newName, 'float32', [data.length], data);
    });
  }
}
