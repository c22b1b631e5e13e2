// Deterministic random checkpoints. A small seeded PRNG on typed arrays (not tfjs random ops), so
// the same config and seed give bit-identical weights on every backend, machine and run.

import { splitmix32 } from '@ziplm/core';
import type { ModelConfig } from './config.js';
import type { Checkpoint, WeightMap } from './weights.js';
import { expectedShapes } from './weights.js';

/** A seeded generator: `uniform()` in [0, 1) and `normal()` ~ N(0, 1). */
export interface Rng {
  uniform(): number;
  normal(): number;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter, as in PractRand) seeded through @ziplm/core's splitmix32.
 * 32-bit state arithmetic only, so results are identical on every JavaScript engine. It stays a generator
 * of its own (not @ziplm/core's SeededRng) because every random checkpoint, the built-in tiny models and
 * the committed teachers' initial weights are defined by its stream for their seeds.
 */
export function createRng(seed: number): Rng {
  const splitmix = splitmix32(seed);
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next();
  let spare: number | undefined;
  const uniform = (): number => next() / 4294967296;
  return {
    uniform,
    normal(): number {
      // Box–Muller; the second value of each pair is kept for the next call.
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = uniform();
      while (u === 0) u = uniform();
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * uniform();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
  };
}

/** Options of `randomCheckpoint`. */
export interface RandomCheckpointOptions {
  /** PRNG seed (default 0). */
  seed?: number;
  /** Standard deviation of embeddings and linear weights (default 0.02, Hugging Face's initializer_range). */
  std?: number;
  /**
   * Standard deviation of biases, LayerNorm betas and of LayerNorm gammas around 1 (default 0:
   * Hugging Face's init, biases 0 and LayerNorm 1/0). Tests use > 0 so that every parameter matters.
   */
  biasStd?: number;
}

/** Scale parameters of the normalisations: BERT's LayerNorms, GPT2's ln_1/ln_2/ln_f, LLaMA's RMSNorms. */
const NORM_WEIGHT = /(LayerNorm|ln_\d|ln_f|input_layernorm|post_attention_layernorm|^model\.norm)\.weight$/;

/**
 * A checkpoint with random weights for `config`, deterministic in `seed`: weights ~ N(0, std²),
 * biases and LayerNorms (RMSNorms) as Hugging Face initialises them (or randomised with `biasStd`); LLaMA has no biases.
 * Tensors are drawn in `expectedShapes(config)` order from one generator.
 */
export function randomCheckpoint<C extends ModelConfig>(config: C, options: RandomCheckpointOptions = {}): Checkpoint<C> {
  const rng = createRng(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const biasStd = options.biasStd ?? 0;
  const weights: WeightMap = new Map();
  for (const [name, shape] of expectedShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const isNorm = NORM_WEIGHT.test(name);
    const isBias = name.endsWith('.bias');
    if (isNorm) for (let i = 0; i < data.length; i++) data[i] = 1 + (biasStd > 0 ? biasStd * rng.normal() : 0);
    else if (isBias) {
      if (biasStd > 0) for (let i = 0; i < data.length; i++) data[i] = biasStd * rng.normal();
    } else for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    weights.set(name, { shape: [...shape], data });
  }
  return { config, weights };
}
