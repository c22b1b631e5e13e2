// A small seedable PRNG whose whole state fits in four uint32 numbers, so a training checkpoint can store it
// and a resumed run draws exactly the same numbers (data order, dropout seeds) as an uninterrupted one.
// xoshiro128** (Blackman & Vigna), seeded through splitmix32 so that nearby seeds give unrelated streams.

/** The serialisable state of an {@link SeededRng}. */
export type SeededRngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Deterministic 32-bit generator (xoshiro128**). */
export class SeededRng {
  private s: Uint32Array;

  /** Seeds from any integer (only its low 32 bits matter), or restores a saved state. */
  constructor(seedOrState: number | SeededRngState) {
    this.s = new Uint32Array(4);
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

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Mixes integers into one 32-bit seed (e.g. run seed and step into a dropout seed). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const next = splitmix32((h ^ (p >>> 0)) >>> 0);
    h = next();
  }
  return h >>> 0;
}
