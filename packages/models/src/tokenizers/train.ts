// Vocabulary trainers, so that ziplm builds its own vocabularies from the training data instead of
// shipping copies of third-party files. Both are BPE merge learners (Sennrich et al. 2016) over word
// counts, like Hugging Face tokenizers' BpeTrainer / WordPieceTrainer:
//   - WordPiece: words come from the BERT basic tokenizer; a word-internal symbol carries the `##`
//     prefix, a merge of (a, ##b) yields "ab" and of (##a, ##b) yields "##ab"; the vocabulary is the
//     special tokens, every character with and without `##`, then the merged tokens in merge order.
//   - Byte-level BPE: words come from the GPT2 regex, as UTF-8 bytes shown through bytes_to_unicode;
//     the vocabulary is the 256 byte symbols (GPT2's order), the merges, then <|endoftext|>.
// The most frequent pair is merged first; ties go to the pair with the smaller symbol ids, so the
// result depends only on the input texts and options (deterministic).
//
// The learner is incremental: pair counts are updated only for the words that contain the merged
// pair, and a max-heap with lazy invalidation picks the next pair, so one merge costs time
// proportional to the occurrences it touches instead of a pass over the corpus.

import { makeBertBasicTokenizer, type BasicWord, type BertNormalizerOptions } from './bert-basic.js';
import { BYTE_ORDER, BYTE_TO_UNICODE, GPT2_EOS_TOKEN, gpt2SplitPattern } from './bpe.js';
import { BERT_SPECIAL_TOKENS } from './wordpiece.js';
import { TokenizationError } from './types.js';

/** Pair key: a·2^21 + b (exact in a double for symbol ids below 2^21 ≈ 2M). Smaller key = smaller (a, b). */
const SHIFT = 2 ** 21;

interface LearnResult {
  /** Symbol strings by id (initial symbols, then new tokens). */
  symbols: string[];
  /** Merges as pairs of symbol ids, in order. */
  merges: Array<[number, number]>;
}

/** Max-heap on (count desc, key asc). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  private before(i: number, j: number): boolean {
    const ci = this.counts[i]!;
    const cj = this.counts[j]!;
    return ci > cj || (ci === cj && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    const c = this.counts[i]!;
    this.counts[i] = this.counts[j]!;
    this.counts[j] = c;
    const k = this.keys[i]!;
    this.keys[i] = this.keys[j]!;
    this.keys[j] = k;
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.keys.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  /** Removes the top; returns [count, key]. */
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0]!, this.keys[0]!];
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.keys.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      const n = this.keys.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < n && this.before(l, m)) m = l;
        if (r < n && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

/**
 * Learns merges over `words` (symbol id sequences, each with a count) until the vocabulary holds
 * `targetSize` symbols or no pair occurs `minFrequency` times. `mergeName` builds a new symbol's
 * string; a name that already exists reuses that symbol (two different splits of the same string).
 */
function learnMerges(
  initialSymbols: string[],
  words: number[][],
  counts: number[],
  targetSize: number,
  minFrequency: number,
  mergeName: (a: string, b: string) => string,
): LearnResult {
  const symbols = [...initialSymbols];
  const symbolIds = new Map(symbols.map((s, i) => [s, i]));
  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>();
  const heap = new PairHeap();
  const merges: Array<[number, number]> = [];

  for (let w = 0; w < words.length; w++) {
    const word = words[w]!;
    const c = counts[w]!;
    for (let i = 0; i + 1 < word.length; i++) {
      const key = word[i]! * SHIFT + word[i + 1]!;
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + c);
      let list = pairWords.get(key);
      if (list === undefined) {
        list = [];
        pairWords.set(key, list);
      }
      if (list[list.length - 1] !== w) list.push(w);
    }
  }
  for (const [key, c] of pairCounts) heap.push(c, key);

  const seen = new Int32Array(words.length).fill(-1);
  const delta = new Map<number, number>();
  while (symbols.length < targetSize && heap.size > 0) {
    const [count, key] = heap.pop();
    const current = pairCounts.get(key) ?? 0;
    if (current !== count) {
      // Stale entry. Increments pushed a fresh entry already; decrements did not.
      if (current > 0 && current < count) heap.push(current, key);
      continue;
    }
    if (count < minFrequency || count <= 0) break;
    const a = Math.floor(key / SHIFT);
    const b = key - a * SHIFT;
    const name = mergeName(symbols[a]!, symbols[b]!);
    let merged = symbolIds.get(name);
    if (merged === undefined) {
      merged = symbols.length;
      symbols.push(name);
      symbolIds.set(name, merged);
    }
    merges.push([a, b]);
    const stamp = merges.length;
    delta.clear();
    for (const w of pairWords.get(key) ?? []) {
      if (seen[w] === stamp) continue;
      seen[w] = stamp;
      const word = words[w]!;
      const c = counts[w]!;
      let found = false;
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === a && word[i + 1] === b) {
          found = true;
          break;
        }
      }
      if (!found) continue;
      // Remove the word's old pairs, merge left to right, add its new pairs; only the difference
      // reaches the global counts.
      for (let i = 0; i + 1 < word.length; i++) {
        const k = word[i]! * SHIFT + word[i + 1]!;
        delta.set(k, (delta.get(k) ?? 0) - c);
      }
      const next: number[] = [];
      for (let i = 0; i < word.length; ) {
        if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
          next.push(merged);
          i += 2;
        } else {
          next.push(word[i]!);
          i += 1;
        }
      }
      words[w] = next;
      for (let i = 0; i + 1 < next.length; i++) {
        const k = next[i]! * SHIFT + next[i + 1]!;
        delta.set(k, (delta.get(k) ?? 0) + c);
        if (next[i] === merged || next[i + 1] === merged) {
          let list = pairWords.get(k);
          if (list === undefined) {
            list = [];
            pairWords.set(k, list);
          }
          if (list[list.length - 1] !== w) list.push(w);
        }
      }
    }
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const updated = (pairCounts.get(k) ?? 0) + d;
      if (updated > 0) pairCounts.set(k, updated);
      else pairCounts.delete(k);
      if (d > 0) heap.push(updated, k);
    }
    pairCounts.delete(key);
    pairWords.delete(key);
  }
  return { symbols, merges };
}

/** Options of `trainWordPieceVocab`. */
export interface WordPieceTrainerOptions extends BertNormalizerOptions {
  /** Size of the vocabulary, special tokens included. */
  vocabSize: number;
  /** A pair must occur at least this often to be merged. Default 2 (HF BertWordPieceTokenizer.train). */
  minFrequency?: number;
  /** Special tokens, first in the vocabulary. Default [PAD], [UNK], [CLS], [SEP], [MASK] (so [PAD] = 0). */
  specialTokens?: readonly string[];
  /** Keep only the this many most frequent characters; words with others are left out. Default: all. */
  limitAlphabet?: number;
  /** Default `##`. */
  continuingSubwordPrefix?: string;
  /** Words longer than this (code points) are left out: the tokenizer maps them to [UNK] anyway. Default 100. */
  maxInputCharsPerWord?: number;
}

/**
 * Trains a BERT-style WordPiece vocabulary on `texts`. Returns the tokens in id order (write them as
 * vocab.txt or pass them to `new WordPieceTokenizer({ vocab })` with the same normalizer options).
 */
export function trainWordPieceVocab(texts: Iterable<string>, options: WordPieceTrainerOptions): string[] {
  const prefix = options.continuingSubwordPrefix ?? '##';
  const specials = [...(options.specialTokens ?? BERT_SPECIAL_TOKENS)];
  const maxChars = options.maxInputCharsPerWord ?? 100;
  const minFrequency = options.minFrequency ?? 2;
  checkVocabSize(options.vocabSize, 'vocabSize');

  // 1. Word counts from the BERT basic tokenizer (the same one the tokenizer will run).
  const basic = makeBertBasicTokenizer(options);
  const wordCounts = new Map<string, number>();
  const buffer: BasicWord[] = [];
  for (const text of texts) {
    buffer.length = 0;
    basic(text, buffer);
    for (const w of buffer) {
      if (w.chars.length > maxChars) continue;
      const s = w.chars.join('');
      wordCounts.set(s, (wordCounts.get(s) ?? 0) + 1);
    }
  }

  // 2. Alphabet: characters by frequency (ties by code point), optionally limited.
  const charCounts = new Map<string, number>();
  for (const [word, c] of wordCounts) for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + c);
  let alphabet = [...charCounts.keys()];
  if (options.limitAlphabet !== undefined && alphabet.length > options.limitAlphabet) {
    alphabet.sort((x, y) => charCounts.get(y)! - charCounts.get(x)! || compareCodePoints(x, y));
    alphabet = alphabet.slice(0, options.limitAlphabet);
  }
  alphabet.sort(compareCodePoints);

  const initial: string[] = [];
  const seenInitial = new Set<string>();
  const add = (t: string) => {
    if (!seenInitial.has(t)) {
      seenInitial.add(t);
      initial.push(t);
    }
  };
  specials.forEach(add);
  // Every character both word-initially and word-internally, so no in-alphabet word is ever [UNK].
  alphabet.forEach(add);
  alphabet.forEach((ch) => {
    add(prefix + ch);
  });
  if (initial.length > options.vocabSize) {
    throw new TokenizationError(
      `vocabSize ${options.vocabSize} is smaller than the ${initial.length} special tokens and characters (with and without "${prefix}") of the corpus; raise it or set limitAlphabet`,
    );
  }

  // 3. Words as symbol ids: first character bare, later ones with the prefix.
  const ids = new Map(initial.map((t, i) => [t, i]));
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, c] of wordCounts) {
    const symbols: number[] = [];
    let ok = true;
    let first = true;
    for (const ch of word) {
      const id = ids.get(first ? ch : prefix + ch);
      first = false;
      if (id === undefined) {
        ok = false;
        break;
      }
      symbols.push(id);
    }
    if (ok && symbols.length > 1) {
      words.push(symbols);
      counts.push(c);
    }
  }

  const strip = (s: string) => (s.startsWith(prefix) ? s.slice(prefix.length) : s);
  const { symbols } = learnMerges(initial, words, counts, options.vocabSize, minFrequency, (a, b) => a + strip(b));
  return symbols;
}

/** Options of `trainByteLevelBpe`. */
export interface ByteLevelBpeTrainerOptions {
  /** Size of the vocabulary: 256 byte symbols + merges + special tokens. */
  vocabSize: number;
  /** Default 2. */
  minFrequency?: number;
  /** Appended after the merges. Default [<|endoftext|>]. */
  specialTokens?: readonly string[];
}

/** A trained byte-level BPE: tokens in id order and merges in rank order. */
export interface TrainedByteLevelBpe {
  vocab: string[];
  merges: Array<[string, string]>;
}

/**
 * Trains a GPT2-style byte-level BPE on `texts`. Pass the result to `new ByteLevelBpeTokenizer()`;
 * `save()` writes it as vocab.json + merges.txt.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: ByteLevelBpeTrainerOptions): TrainedByteLevelBpe {
  checkVocabSize(options.vocabSize, 'vocabSize');
  const specials = [...(options.specialTokens ?? [GPT2_EOS_TOKEN])];
  const minFrequency = options.minFrequency ?? 2;
  const initial = BYTE_ORDER.map((b) => BYTE_TO_UNICODE[b]!);
  const targetSize = options.vocabSize - specials.length;
  if (targetSize < initial.length) {
    throw new TokenizationError(`vocabSize ${options.vocabSize} must be at least 256 byte symbols + ${specials.length} special tokens`);
  }
  const byteId = new Int32Array(256);
  BYTE_ORDER.forEach((b, id) => {
    byteId[b] = id;
  });

  const encoder = new TextEncoder();
  const wordCounts = new Map<string, number>();
  const specialSplit = specials.length ? new RegExp(specials.map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'gu') : null;
  const pattern = gpt2SplitPattern();
  for (const text of texts) {
    for (const part of specialSplit ? text.split(specialSplit) : [text]) {
      pattern.lastIndex = 0;
      for (let m = pattern.exec(part); m !== null; m = pattern.exec(part)) {
        wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
      }
    }
  }
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, c] of wordCounts) {
    const bytes = encoder.encode(word);
    if (bytes.length < 2) continue;
    words.push(Array.from(bytes, (b) => byteId[b]!));
    counts.push(c);
  }
  const { symbols, merges } = learnMerges(initial, words, counts, targetSize, minFrequency, (a, b) => a + b);
  const vocab = [...symbols];
  for (const s of specials) {
    if (vocab.includes(s)) throw new TokenizationError(`special token "${s}" collides with a learned token`);
    vocab.push(s);
  }
  return { vocab, merges: merges.map(([a, b]) => [symbols[a]!, symbols[b]!] as [string, string]) };
}

function checkVocabSize(n: number, field: string): void {
  if (!Number.isInteger(n) || n <= 0) throw new TokenizationError(`${field} must be a positive integer, got ${n}`);
}

function compareCodePoints(x: string, y: string): number {
  return x.codePointAt(0)! - y.codePointAt(0)!;
}
