// Seeded pseudo-random numbers. Every seeded result of ziplm (data order, dropout masks, SPDY searches,
// measurement order, test fixtures) is reproducible from its seed on every JavaScript engine, so the
// generators use 32-bit integer arithmetic only (Math.imul, >>> 0) and never Math.random.
//
// Two streams live here because results already published depend on each of them:
// - `SeededRng` (xoshiro128**): the generator for new code. Its whole state is four uint32 numbers, so a
//   training checkpoint stores it and a resumed run draws exactly what an uninterrupted one would.
// - `seededRandom` (mulberry32): a float stream from a one-number state. The SPDY search, the latency
//   measurement protocol and many test fixtures are defined by its output for a given seed; replacing it
//   would change every such result, so it stays, with one implementation.

/** The serialisable state of a {@link SeededRng}: four uint32 numbers. */
export type SeededRngState = [number, number, number, number];

/**
 * splitmix32: a stream of well-mixed uint32 numbers from one 32-bit seed. Used to expand a seed into the
 * state of a larger generator, so that nearby seeds (1, 2, 3) give unrelated streams.
 */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Deterministic 32-bit generator: xoshiro128** (Blackman & Vigna), seeded through {@link splitmix32}.
 * Its state can be saved ({@link SeededRng.state}) and restored (`new SeededRng(state)`).
 */
export class SeededRng {
  private readonly s = new Uint32Array(4);

  /** Seeds from any integer (only its low 32 bits matter), or restores a saved state. */
  constructor(seedOrState: number | Readonly<SeededRngState>) {
    if (typeof seedOrState === 'number') {
      const next = splitmix32(seedOrState);
      for (let i = 0; i < 4; i++) this.s[i] = next();
    } else {
      for (let i = 0; i < 4; i++) this.s[i] = seedOrState[i] >>> 0;
    }
    // The all-zero state is a fixed point of xoshiro; splitmix32 never yields it, a restored state might.
    if (this.s[0] === 0 && this.s[1] === 0 && this.s[2] === 0 && this.s[3] === 0) this.s[0] = 1;
  }

  /** Next uniform uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** A copy of the state, for checkpoints. */
  state(): SeededRngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }
}

/** Mixes integers into one 32-bit seed (e.g. a run's seed and a step into that step's dropout seed). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) h = splitmix32((h ^ (p >>> 0)) >>> 0)();
  return h >>> 0;
}

/**
 * xorshift32 (Marsaglia), floats in [0, 1): the stream that picks the pipeline's calibration and evaluation
 * samples (`@ziplm/pipeline`'s tasks). Kept so those samples, and every run directory built from them, do not
 * change; new code takes {@link seededRandom} or {@link SeededRng}. Seed 0 is replaced by the golden-ratio
 * constant (xorshift's all-zero state is a fixed point).
 */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/**
 * mulberry32 (Tommy Ettinger): floats in [0, 1) from a 32-bit seed. The stream behind the seeded results
 * listed in the file comment; new code that needs a saved state or integers prefers {@link SeededRng}.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
