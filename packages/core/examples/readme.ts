import { SeededRng, median, transposed } from '@ziplm/core';
import { writeJsonAtomic } from '@ziplm/core/node';

const rng = new SeededRng(42); // xoshiro128**; rng.state() restores with new SeededRng(state)
const order = rng.shuffle([0, 1, 2, 3]);
const centre = median([3.1, 2.9, 40, 3.0]); // 3.05: robust to the slow outlier
const wt = transposed(new Float32Array([1, 2, 3, 4, 5, 6]), 2, 3); // [1, 4, 2, 5, 3, 6]
await writeJsonAtomic('out/result.json', { order, centre, wt: [...wt] });
