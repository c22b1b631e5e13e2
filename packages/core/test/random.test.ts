import { describe, expect, it } from 'vitest';
import { mixSeed, SeededRng, seededRandom, splitmix32, xorshift32 } from '../src/index.js';

// The expected numbers were produced by the generators this module replaced (distill's SeededRng and
// mixSeed, latency's and models' seededRandom): seeded results written before the move stay the same.
describe('seededRandom (mulberry32)', () => {
  it('draws the stream of the implementations it replaced', () => {
    const random = seededRandom(42);
    expect([random(), random(), random()]).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('is deterministic in its seed and stays in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('SeededRng (xoshiro128**)', () => {
  it('draws the stream of the implementation it replaced', () => {
    const rng = new SeededRng(42);
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([2837322924, 544945897, 479756282]);
    expect(rng.state()).toEqual([1023157812, 3745282274, 2189229299, 1611509492]);
    expect(new SeededRng(7).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([0, 5, 6, 8, 9, 7, 1, 3, 4, 2]);
  });

  it('continues exactly from a saved state', () => {
    const rng = new SeededRng(3);
    for (let i = 0; i < 10; i++) rng.next();
    const restored = new SeededRng(rng.state());
    expect(Array.from({ length: 20 }, () => restored.nextUint32())).toEqual(Array.from({ length: 20 }, () => rng.nextUint32()));
  });

  it('leaves the all-zero state, a fixed point of xoshiro', () => {
    const rng = new SeededRng([0, 0, 0, 0]);
    expect(rng.nextUint32() + rng.nextUint32() + rng.nextUint32()).toBeGreaterThan(0);
  });

  it('draws integers in [0, n) and shuffles to a permutation', () => {
    const rng = new SeededRng(11);
    const ints = Array.from({ length: 500 }, () => rng.int(6));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(rng.shuffle(Array.from({ length: 50 }, (_, i) => i)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});

describe('mixSeed and splitmix32', () => {
  it('mix as the implementation they replaced did', () => {
    expect(mixSeed(1, 2, 3)).toBe(836928418);
    expect(mixSeed(0)).toBe(164558732);
  });

  it('give unrelated values for nearby inputs', () => {
    expect(new Set([mixSeed(1, 0), mixSeed(1, 1), mixSeed(0, 1), mixSeed(2, 0)]).size).toBe(4);
    const a = splitmix32(1);
    const b = splitmix32(2);
    expect(a()).not.toBe(b());
    expect(Number.isInteger(a()) && a() >= 0 && a() < 2 ** 32).toBe(true);
  });
});

describe('xorshift32', () => {
  it('gives the stream the pipeline has always drawn its samples from', () => {
    // Reference: the generator as it was written in @ziplm/pipeline's tasks.ts.
    let s = 42 >>> 0 || 0x9e3779b9;
    const reference = () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x100000000;
    };
    const next = xorshift32(42);
    for (let i = 0; i < 1000; i++) expect(next()).toBe(reference());
  });

  it('replaces seed 0 (a fixed point of xorshift) by a non-zero state', () => {
    const next = xorshift32(0);
    const values = Array.from({ length: 10 }, next);
    expect(new Set(values).size).toBe(10);
    for (const v of values) expect(v >= 0 && v < 1).toBe(true);
  });
});
