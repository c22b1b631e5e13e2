// Padding tokenized examples into batches for evaluation and calibration. Which examples go into which
// batch of a training epoch (seeded shuffle, length bucketing) is decided by @ziplm/distill's `planEpoch`,
// whose plan a training checkpoint can rebuild on resume.

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
  items.forEach((item, i) => {
    seqLength = Math.max(seqLength, itemIds(item, i).length);
  });
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

/** Gathers `values[i]` for the batch's indices (labels, start/end positions) into an Int32Array. */
export function gatherInt32(values: ArrayLike<number>, indices: readonly number[]): Int32Array {
  return Int32Array.from(indices, (i) => values[i]!);
}
