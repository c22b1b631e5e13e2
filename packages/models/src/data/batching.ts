// Batching for training and evaluation: deterministic seeded shuffling and length bucketing.
// Sorting examples by length inside windows of a few batches puts similar lengths together, so a
// batch pads to nearly its real length (attention costs grow with the padded length), while the
// shuffle before and after keeps batches varied across an epoch.

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). Deterministic for a seed. */
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

/** Fisher–Yates shuffle in place with the given random source. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

export interface BatchPlanOptions {
  batchSize: number;
  /** Shuffle examples (before bucketing) and batches (after). Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle; use e.g. `seed + epoch` for a new order every epoch. Default 0. */
  seed?: number;
  /**
   * Batches per sorting window: examples are sorted by length within windows of
   * `bucketWindow × batchSize`. 1 = no bucketing; Infinity = sort everything. Default 50.
   */
  bucketWindow?: number;
  /** Drop a last incomplete batch. Default false. */
  dropLast?: boolean;
}

/** Splits example indices into batches (lists of indices), length-bucketed and shuffled with a seed. */
export function planBatches(lengths: ArrayLike<number>, options: BatchPlanOptions): number[][] {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const shuffle = options.shuffle ?? true;
  const windowBatches = options.bucketWindow ?? 50;
  if (!(windowBatches >= 1)) throw new RangeError(`bucketWindow must be >= 1, got ${windowBatches}`);
  const random = seededRandom(options.seed ?? 0);
  const order = Array.from({ length: lengths.length }, (_, i) => i);
  if (shuffle) shuffleInPlace(order, random);
  const windowSize = windowBatches === Infinity ? order.length : windowBatches * batchSize;
  if (windowBatches > 1) {
    for (let start = 0; start < order.length; start += windowSize) {
      const window = order.slice(start, start + windowSize);
      // Longest first, ties by position in the shuffled order (stable sort): deterministic.
      window.sort((a, b) => lengths[b]! - lengths[a]!);
      for (let k = 0; k < window.length; k++) order[start + k] = window[k]!;
    }
  }
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const batch = order.slice(start, start + batchSize);
    if (batch.length < batchSize && options.dropLast) break;
    batches.push(batch);
  }
  if (shuffle) shuffleInPlace(batches, random);
  return batches;
}

/** A tokenized example as the batcher needs it (an Encoding or a SQuAD feature fits). */
export interface BatchItem {
  ids?: readonly number[];
  inputIds?: readonly number[];
  typeIds?: readonly number[];
}

export interface PadOptions {
  padId: number;
  /** Pad every batch to exactly this length (longer items are an error). Default: the longest item. */
  seqLength?: number;
  /** Round the padded length up to a multiple of this (e.g. 8). */
  padToMultipleOf?: number;
}

/** A padded batch: row-major int32 arrays of shape [batchSize, seqLength], mask 1 = real token. */
export interface PaddedBatch {
  /** Which items (indices into the list given to the batcher) the rows hold. */
  indices: number[];
  batchSize: number;
  seqLength: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

function itemIds(item: BatchItem, index: number): readonly number[] {
  const ids = item.ids ?? item.inputIds;
  if (ids === undefined) throw new TypeError(`batch item ${index} has neither "ids" nor "inputIds"`);
  return ids;
}

/** Pads the given items (right padding) into one batch. */
export function padBatch(items: readonly BatchItem[], options: PadOptions, indices?: number[]): PaddedBatch {
  let seqLength = 0;
  items.forEach((item, i) => (seqLength = Math.max(seqLength, itemIds(item, i).length)));
  if (options.seqLength !== undefined) {
    if (seqLength > options.seqLength) throw new RangeError(`an item has ${seqLength} tokens, more than seqLength ${options.seqLength}`);
    seqLength = options.seqLength;
  }
  const multiple = options.padToMultipleOf;
  if (multiple !== undefined && multiple > 1) seqLength = Math.ceil(seqLength / multiple) * multiple;
  const batchSize = items.length;
  const inputIds = new Int32Array(batchSize * seqLength).fill(options.padId);
  const attentionMask = new Int32Array(batchSize * seqLength);
  const tokenTypeIds = new Int32Array(batchSize * seqLength);
  items.forEach((item, r) => {
    const ids = itemIds(item, r);
    const row = r * seqLength;
    for (let t = 0; t < ids.length; t++) {
      inputIds[row + t] = ids[t]!;
      attentionMask[row + t] = 1;
    }
    if (item.typeIds) for (let t = 0; t < item.typeIds.length; t++) tokenTypeIds[row + t] = item.typeIds[t]!;
  });
  return { indices: indices ?? items.map((_, i) => i), batchSize, seqLength, inputIds, attentionMask, tokenTypeIds };
}

/** Plans batches over `items` by their lengths and pads each one. */
export function makeBatches(items: readonly BatchItem[], options: BatchPlanOptions & PadOptions): PaddedBatch[] {
  const lengths = items.map((it, i) => itemIds(it, i).length);
  return planBatches(lengths, options).map((idx) =>
    padBatch(
      idx.map((i) => items[i]!),
      options,
      idx,
    ),
  );
}

/** Gathers `values[i]` for the batch's indices (labels, start/end positions) into an Int32Array. */
export function gatherInt32(values: ArrayLike<number>, indices: readonly number[]): Int32Array {
  return Int32Array.from(indices, (i) => values[i]!);
}
