// Shared tokenizer types. The shapes follow Hugging Face `tokenizers` so that code written against
// a fast tokenizer's output (run_qa's offset mapping, sequence ids) ports one to one.

import { ModelsError } from '../errors.js';

/**
 * One tokenized input (a single sequence or a pair), with special tokens added.
 * All arrays have the same length (no padding; see `padBatch` in the data module).
 */
export interface Encoding {
  ids: number[];
  /** Segment ids: 0 for the first sequence and its [CLS]/[SEP], 1 for the second and its final [SEP]. */
  typeIds: number[];
  /** 1 for every token (padding happens later, in batches). */
  attentionMask: number[];
  /**
   * Character span `[start, end)` of each token in the ORIGINAL text of its own sequence, in UTF-16
   * code units (so `text.slice(start, end)` works). Special tokens get `[0, 0]`.
   */
  offsets: Array<[number, number]>;
  /** Which input each token came from: 0, 1, or null for special tokens. */
  sequenceIds: Array<0 | 1 | null>;
}

/**
 * HF truncation strategies. `longest_first` shortens the longer sequence (both when needed),
 * `only_first` / `only_second` shorten just that one and fail when it is too short.
 */
export type TruncationStrategy = 'longest_first' | 'only_second' | 'only_first';

export interface EncodeOptions {
  /** Maximum total length including special tokens. No truncation when absent. */
  maxLength?: number;
  /** Default `longest_first`. */
  truncation?: TruncationStrategy;
}

export interface OverflowEncodeOptions extends EncodeOptions {
  maxLength: number;
  /**
   * Tokens shared by consecutive windows of the truncated sequence (HF fast tokenizers' `stride`:
   * windows start every `budget - stride` tokens; this is run_qa's `doc_stride`).
   */
  stride?: number;
}

export interface DecodeOptions {
  /** Drop special tokens ([CLS], [SEP], [PAD], <|endoftext|>, ...). Default false, as in HF. */
  skipSpecialTokens?: boolean;
}

/** Tokens of one sequence without special tokens: ids and their spans in the original text. */
export interface TokenSequence {
  ids: number[];
  offsets: Array<[number, number]>;
}

/** A tokenizer of either family; created by `loadTokenizer` or the constructors. */
export interface Tokenizer {
  readonly type: 'wordpiece' | 'bpe';
  /** Number of ids (largest id + 1). */
  readonly vocabSize: number;
  /** Id used to pad batches: [PAD] for WordPiece, <|endoftext|> for GPT2. */
  readonly padId: number;
  /** Tokenize and add special tokens; pairs get token type ids. Truncates when `maxLength` is given. */
  encode(text: string, pair?: string, options?: EncodeOptions): Encoding;
  /**
   * Like `encode`, but instead of dropping the truncated tokens, returns every window of them (HF
   * `return_overflowing_tokens=True`): the first element is what `encode` returns.
   */
  encodeOverflowing(text: string, pair: string | undefined, options: OverflowEncodeOptions): Encoding[];
  /** Tokens of one sequence, without special tokens or truncation. */
  tokenize(text: string): TokenSequence;
  /** Adds special tokens to already tokenized sequences and truncates them (what `encodeOverflowing` does after `tokenize`). */
  postProcess(first: TokenSequence, second: TokenSequence | undefined, options?: EncodeOptions & { stride?: number }): Encoding[];
  decode(ids: readonly number[], options?: DecodeOptions): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** Writes its vocabulary files into `dir` (created if needed) and returns their names. */
  save(dir: string): Promise<string[]>;
  /**
   * This tokenizer as the text of a Hugging Face `tokenizer.json`, the file the `tokenizers` library and
   * transformers.js read: the file it was loaded from, unchanged, when it was read from one (so that what
   * ziplm does not model, such as another post-processor or extra added tokens, survives); otherwise
   * generated from its settings, encoding exactly as `encode` does.
   */
  tokenizerJson(): string;
  /** Its `tokenizer_config.json`: the tokenizer class and special tokens that transformers / transformers.js read. */
  tokenizerConfig(): TokenizerConfigJson;
}

/** A `tokenizer_config.json` object (Hugging Face field names). */
export interface TokenizerConfigJson {
  readonly tokenizer_class: string;
  readonly [setting: string]: string | number | boolean | null;
}

/** Input that cannot be tokenized as asked (e.g. a truncation that cannot fit). */
export class TokenizationError extends ModelsError {
  override name = 'TokenizationError';
  override readonly code = 'ERR_ZIPLM_TOKENIZATION';
}
