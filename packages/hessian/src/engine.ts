// The default MatMulEngine: a plain TypeScript GEMM, as fast as plain JS gets without threads or WASM.
//
// Layout (toolchain.md, "Plain TypeScript numerics"): both operands are packed into float64 panels of
// four rows (A) / four columns (B), interleaved along k, so the 4×4 register-blocked micro-kernel reads
// two sequential streams and keeps 16 accumulators in registers. k and n are blocked so that one packed
// B block (NC columns × KC) stays in L2 while every 4-row A panel streams past it. Float32 inputs are
// widened to float64 while packing, so one monomorphic micro-kernel serves both precisions and the f32
// product is accumulated in float64 and rounded once on output.

import type { MatMulEngine, MatMulOptions } from './engine-types.js';
import { ShapeError } from './errors.js';

/** k-block: 4 rows × KC float64 of A (8 KiB) plus 4 × KC of B per micro-kernel call stay in L1. */
const KC = 256;
/** n-block: NC × KC float64 of packed B (256 KiB) stays in L2 while all A panels pass. */
const NC = 128;

function checkGemmArgs(name: string, aLength: number, bLength: number, m: number, k: number, n: number): void {
  for (const [label, value] of [
    ['m', m],
    ['k', k],
    ['n', n],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new ShapeError(`${name}: ${label} must be a non-negative integer, got ${value}`);
    }
  }
  // Exact lengths, like the onnxruntime engine: a longer array almost always means a shape bug.
  if (aLength !== m * k) throw new ShapeError(`${name}: A holds ${aLength} values, expected m·k = ${m * k}`);
  if (bLength !== k * n) throw new ShapeError(`${name}: B holds ${bLength} values, expected k·n = ${k * n}`);
}

/**
 * Packs op(A) (m×k) into panels of 4 rows interleaved along k: `out[(i>>2)·4k + p·4 + (i&3)]`.
 * Rows past m stay zero. Two copies (f64/f32) keep each one monomorphic.
 */
function packRowsF64(a: Float64Array, m: number, k: number, trans: boolean, out: Float64Array): void {
  if (!trans) {
    // A stored m×k: row i, column p at a[i·k + p].
    for (let i = 0; i < m; i++) {
      const base = (i >> 2) * 4 * k + (i & 3);
      const src = i * k;
      for (let p = 0; p < k; p++) out[base + p * 4] = a[src + p]!;
    }
  } else {
    // A stored k×m: op(A)[i][p] = a[p·m + i]; walk rows of the stored matrix for sequential reads.
    for (let p = 0; p < k; p++) {
      const src = p * m;
      for (let i = 0; i < m; i++) out[(i >> 2) * 4 * k + p * 4 + (i & 3)] = a[src + i]!;
    }
  }
}

function packRowsF32(a: Float32Array, m: number, k: number, trans: boolean, out: Float64Array): void {
  if (!trans) {
    for (let i = 0; i < m; i++) {
      const base = (i >> 2) * 4 * k + (i & 3);
      const src = i * k;
      for (let p = 0; p < k; p++) out[base + p * 4] = a[src + p]!;
    }
  } else {
    for (let p = 0; p < k; p++) {
      const src = p * m;
      for (let i = 0; i < m; i++) out[(i >> 2) * 4 * k + p * 4 + (i & 3)] = a[src + i]!;
    }
  }
}

/**
 * The blocked kernel on packed panels: C (m4×n4, row-major, zero on entry) = Ap·Bp. `ap` holds
 * m4/4 panels of 4×k, `bp` holds n4/4 panels of k×4 (both interleaved along k).
 */
function gemmPacked(ap: Float64Array, bp: Float64Array, m4: number, k: number, n4: number, c: Float64Array): void {
  const k4 = 4 * k;
  for (let jc = 0; jc < n4; jc += NC) {
    const jEnd = Math.min(jc + NC, n4);
    for (let kc = 0; kc < k; kc += KC) {
      const kEnd = Math.min(kc + KC, k);
      for (let i = 0; i < m4; i += 4) {
        const aBase = (i >> 2) * k4;
        const c0 = i * n4;
        const c1 = c0 + n4;
        const c2 = c1 + n4;
        const c3 = c2 + n4;
        for (let j = jc; j < jEnd; j += 4) {
          let s00 = 0,
            s01 = 0,
            s02 = 0,
            s03 = 0;
          let s10 = 0,
            s11 = 0,
            s12 = 0,
            s13 = 0;
          let s20 = 0,
            s21 = 0,
            s22 = 0,
            s23 = 0;
          let s30 = 0,
            s31 = 0,
            s32 = 0,
            s33 = 0;
          let ia = aBase + kc * 4;
          let ib = (j >> 2) * k4 + kc * 4;
          const iaEnd = aBase + kEnd * 4;
          for (; ia < iaEnd; ia += 4, ib += 4) {
            const a0 = ap[ia]!,
              a1 = ap[ia + 1]!,
              a2 = ap[ia + 2]!,
              a3 = ap[ia + 3]!;
            const b0 = bp[ib]!,
              b1 = bp[ib + 1]!,
              b2 = bp[ib + 2]!,
              b3 = bp[ib + 3]!;
            s00 += a0 * b0;
            s01 += a0 * b1;
            s02 += a0 * b2;
            s03 += a0 * b3;
            s10 += a1 * b0;
            s11 += a1 * b1;
            s12 += a1 * b2;
            s13 += a1 * b3;
            s20 += a2 * b0;
            s21 += a2 * b1;
            s22 += a2 * b2;
            s23 += a2 * b3;
            s30 += a3 * b0;
            s31 += a3 * b1;
            s32 += a3 * b2;
            s33 += a3 * b3;
          }
          c[c0 + j] += s00;
          c[c0 + j + 1] += s01;
          c[c0 + j + 2] += s02;
          c[c0 + j + 3] += s03;
          c[c1 + j] += s10;
          c[c1 + j + 1] += s11;
          c[c1 + j + 2] += s12;
          c[c1 + j + 3] += s13;
          c[c2 + j] += s20;
          c[c2 + j + 1] += s21;
          c[c2 + j + 2] += s22;
          c[c2 + j + 3] += s23;
          c[c3 + j] += s30;
          c[c3 + j + 1] += s31;
          c[c3 + j + 2] += s32;
          c[c3 + j + 3] += s33;
        }
      }
    }
  }
}

const roundUp4 = (x: number): number => (x + 3) & ~3;

function cropF64(c: Float64Array, m: number, n: number, n4: number): Float64Array {
  if (n === n4 && c.length === m * n) return c;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) out.set(c.subarray(i * n4, i * n4 + n), i * n);
  return out;
}

function cropF32(c: Float64Array, m: number, n: number, n4: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const src = i * n4;
    const dst = i * n;
    for (let j = 0; j < n; j++) out[dst + j] = c[src + j]!;
  }
  return out;
}

/** Synchronous float64 GEMM with the {@link MatMulEngine} contract (C = op(A)·op(B), new array). */
export function gemmF64(a: Float64Array, b: Float64Array, m: number, k: number, n: number, options: MatMulOptions = {}): Float64Array {
  checkGemmArgs('gemmF64', a.length, b.length, m, k, n);
  const m4 = roundUp4(m);
  const n4 = roundUp4(n);
  const ap = new Float64Array(m4 * k);
  const bp = new Float64Array(n4 * k);
  packRowsF64(a, m, k, options.transA ?? false, ap);
  // op(B) is k×n; its columns are the rows of op(B)ᵀ, which is B itself when transB.
  packRowsF64(b, n, k, !(options.transB ?? false), bp);
  const c = new Float64Array(m4 * n4);
  if (k > 0) gemmPacked(ap, bp, m4, k, n4, c);
  return cropF64(c, m, n, n4).subarray(0, m * n);
}

/** Synchronous float32 GEMM (accumulated in float64, rounded once on output). */
export function gemmF32(a: Float32Array, b: Float32Array, m: number, k: number, n: number, options: MatMulOptions = {}): Float32Array {
  checkGemmArgs('gemmF32', a.length, b.length, m, k, n);
  const m4 = roundUp4(m);
  const n4 = roundUp4(n);
  const ap = new Float64Array(m4 * k);
  const bp = new Float64Array(n4 * k);
  packRowsF32(a, m, k, options.transA ?? false, ap);
  packRowsF32(b, n, k, !(options.transB ?? false), bp);
  const c = new Float64Array(m4 * n4);
  if (k > 0) gemmPacked(ap, bp, m4, k, n4, c);
  return cropF32(c, m, n, n4);
}

/**
 * The zero-dependency engine: {@link gemmF64} / {@link gemmF32} behind the async interface. About
 * 2–2.5 GFLOP/s on one core of the project machine; inject an accelerated engine (onnxruntime) for
 * model-sized work.
 */
export function createJsMatMulEngine(): MatMulEngine {
  return {
    name: 'js',
    matmulF64: async (a, b, m, k, n, options) => gemmF64(a, b, m, k, n, options),
    matmulF32: async (a, b, m, k, n, options) => gemmF32(a, b, m, k, n, options),
  };
}
