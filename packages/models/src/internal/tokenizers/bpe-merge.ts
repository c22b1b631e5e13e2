// BPE merges over token ids, as Hugging Face `tokenizers` applies them (`Word::merge_all`): a priority queue
// of adjacent pairs, lowest merge rank first and, among equal ranks, the leftmost; a queued pair is used only
// if both symbols are still there. This gives the same result as "merge every occurrence of the best pair,
// left to right, repeat" in O(n log n), which matters for SentencePiece-style BPE, where a whole sentence
// (no pre-tokenizer) is one word.

/** Merge rank and result id of each pair of ids. Keys are `left · 2^22 + right` (ids are < 2^22, ziplm's vocabulary limit). */
export type MergeTable = ReadonlyMap<number, { readonly rank: number; readonly id: number }>;

const PAIR_FACTOR = 2 ** 22;

export const pairKey = (left: number, right: number): number => left * PAIR_FACTOR + right;

/** A symbol of a word being merged: its id and the UTF-16 span `[start, end)` it covers in the text. */
export interface MergeSymbol {
  id: number;
  start: number;
  end: number;
}

/** Binary min-heap of (rank, position) pairs. */
class PairQueue {
  private readonly ranks: number[] = [];
  private readonly positions: number[] = [];

  get size(): number {
    return this.ranks.length;
  }

  private less(a: number, b: number): boolean {
    const ra = this.ranks[a]!;
    const rb = this.ranks[b]!;
    return ra < rb || (ra === rb && this.positions[a]! < this.positions[b]!);
  }

  private swap(a: number, b: number): void {
    [this.ranks[a], this.ranks[b]] = [this.ranks[b]!, this.ranks[a]!];
    [this.positions[a], this.positions[b]] = [this.positions[b]!, this.positions[a]!];
  }

  push(rank: number, position: number): void {
    this.ranks.push(rank);
    this.positions.push(position);
    for (let i = this.ranks.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the smallest entry and returns its position. */
  pop(): { rank: number; position: number } {
    const top = { rank: this.ranks[0]!, position: this.positions[0]! };
    const lastRank = this.ranks.pop()!;
    const lastPosition = this.positions.pop()!;
    if (this.ranks.length > 0) {
      this.ranks[0] = lastRank;
      this.positions[0] = lastPosition;
      for (let i = 0; ; ) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < this.ranks.length && this.less(left, smallest)) smallest = left;
        if (right < this.ranks.length && this.less(right, smallest)) smallest = right;
        if (smallest === i) break;
        this.swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }
}

/** Merges `symbols` (in text order) with `merges`; returns the remaining symbols. */
export function mergeSymbols(symbols: readonly MergeSymbol[], merges: MergeTable): MergeSymbol[] {
  const n = symbols.length;
  if (n < 2) return symbols.map((s) => ({ ...s }));
  const ids = symbols.map((s) => s.id);
  const starts = symbols.map((s) => s.start);
  const ends = symbols.map((s) => s.end);
  const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
  const previous = Int32Array.from({ length: n }, (_, i) => i - 1);
  const alive = new Uint8Array(n).fill(1);
  const queue = new PairQueue();
  const enqueue = (position: number) => {
    const following = next[position]!;
    if (following < 0) return;
    const merge = merges.get(pairKey(ids[position]!, ids[following]!));
    if (merge !== undefined) queue.push(merge.rank, position);
  };
  for (let i = 0; i + 1 < n; i++) enqueue(i);
  while (queue.size > 0) {
    const { rank, position } = queue.pop();
    const following = next[position]!;
    if (!alive[position] || following < 0) continue;
    // The pair may have changed since it was queued: use it only if it still merges with this rank.
    const merge = merges.get(pairKey(ids[position]!, ids[following]!));
    if (merge === undefined || merge.rank !== rank) continue;
    ids[position] = merge.id;
    ends[position] = ends[following]!;
    alive[following] = 0;
    next[position] = next[following]!;
    if (next[position]! >= 0) previous[next[position]!] = position;
    if (previous[position]! >= 0) enqueue(previous[position]!);
    enqueue(position);
  }
  const out: MergeSymbol[] = [];
  for (let i = 0; i >= 0; i = next[i]!) out.push({ id: ids[i]!, start: starts[i]!, end: ends[i]! });
  return out;
}
