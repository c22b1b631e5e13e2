// SentencePiece-style BPE as Hugging Face `tokenizers` runs it from a tokenizer.json (Llama 2, TinyLlama,
// Mistral): spaces become "▁" and one is put before the text (a Prepend + Replace normalizer, or a
// Metaspace pre-tokenizer), BPE merges run over characters, and a character the vocabulary lacks becomes
// its UTF-8 bytes as `<0xAB>` tokens (byte_fallback) or the unknown token. Decoding undoes it with the
// file's decoder (Replace "▁" → " ", ByteFallback, Fuse, Strip, or Metaspace).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MergeSymbol, type MergeTable, mergeSymbols, pairKey } from '../internal/tokenizers/bpe-merge.js';
import { postProcessDecoder } from '../internal/tokenizers/postprocess.js';
import {
  AlignedText,
  applyMetaspace,
  type DecoderStep,
  decoderSteps,
  type Metaspace,
  metaspacePreTokenizer,
  type NormalizerStep,
  normalizerSteps,
} from '../internal/tokenizers/sentencepiece.js';
import { SpecialTokenSplitter } from '../internal/tokenizers/special.js';
import type {
  DecodeOptions,
  Encoding,
  EncodeOptions,
  OverflowEncodeOptions,
  TokenizerConfigJson,
  TokenSequence,
  Tokenizer,
} from './types.js';
import { TokenizationError } from './types.js';

/** An entry of tokenizer.json's `added_tokens`: found verbatim in the raw text before anything else runs. */
export interface SentencePieceAddedToken {
  readonly content: string;
  /** Dropped by `decode(ids, { skipSpecialTokens: true })`. */
  readonly special: boolean;
}

export interface SentencePieceBpeOptions {
  /** token → id of the BPE model (`model.vocab`), added tokens included. */
  vocab: ReadonlyMap<string, number>;
  /** Merges in rank order (`model.merges`). */
  merges: ReadonlyArray<readonly [string, string]>;
  /** `model.unk_token`: the token of a character neither in the vocabulary nor expressible as byte tokens. Absent: such characters are dropped. */
  unkToken?: string;
  /** `model.byte_fallback`: a character missing from the vocabulary becomes its UTF-8 bytes as `<0xAB>` tokens. */
  byteFallback?: boolean;
  /** `model.fuse_unk`: consecutive unknown characters give one unknown token. */
  fuseUnk?: boolean;
  /** `model.ignore_merges`: a word that is itself in the vocabulary is one token, whatever the merges would make of it. */
  ignoreMerges?: boolean;
  /** tokenizer.json's `normalizer` (null, Prepend, Replace, Sequence). */
  normalizer: unknown;
  /** tokenizer.json's `pre_tokenizer` (null or Metaspace). */
  preTokenizer: unknown;
  /** tokenizer.json's `decoder` (Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence). */
  decoder: unknown;
  /** tokenizer.json's `added_tokens`. */
  addedTokens: readonly SentencePieceAddedToken[];
  /** Beginning-of-sequence token the post-processor puts before each sequence (`<s> $A`); an added token. */
  bosToken?: string;
  /** End-of-sequence token, also the padding id. Default `</s>`. */
  eosToken?: string;
  /** The tokenizer.json text these settings come from: `tokenizerJson()` and `save` write it unchanged. */
  tokenizerJson: string;
}

/** Default end of sequence of SentencePiece LLaMA vocabularies. */
export const SENTENCEPIECE_EOS_TOKEN = '</s>';

const WORD_CACHE_LIMIT = 10_000;

/** The `<0xAB>` token of byte_fallback (`format!("<{:#04X}>", b)` in `tokenizers`: upper-case hex, lower-case 0x). */
function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** SentencePiece-style BPE read from a tokenizer.json; built by `loadTokenizer(dir, 'llama')`. */
export class SentencePieceBpeTokenizer implements Tokenizer {
  readonly type = 'bpe' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosToken: string;
  readonly eosId: number | undefined;
  readonly bosToken: string | undefined;
  readonly bosId: number | undefined;
  readonly unkToken: string | undefined;
  readonly unkId: number | undefined;

  private readonly tokenIds: ReadonlyMap<string, number>;
  private readonly tokens: Array<string | undefined>;
  private readonly mergeTable: MergeTable;
  private readonly byteIds: Array<number | undefined>;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;
  private readonly normalizers: readonly NormalizerStep[];
  private readonly metaspace: Metaspace | undefined;
  private readonly decoders: readonly DecoderStep[];
  private readonly splitter: SpecialTokenSplitter;
  private readonly specialIds: ReadonlySet<number>;
  private readonly cache = new Map<string, Array<{ id: number; start: number; end: number }>>();
  private readonly source: string;

  constructor(options: SentencePieceBpeOptions) {
    this.tokenIds = options.vocab;
    let max = -1;
    for (const id of options.vocab.values()) if (id > max) max = id;
    this.tokens = new Array<string | undefined>(max + 1);
    for (const [token, id] of options.vocab) this.tokens[id] = token;
    this.vocabSize = this.tokens.length;

    const table = new Map<number, { rank: number; id: number }>();
    options.merges.forEach(([a, b], rank) => {
      const left = this.tokenIds.get(a);
      const right = this.tokenIds.get(b);
      const merged = this.tokenIds.get(a + b);
      if (left === undefined || right === undefined || merged === undefined)
        throw new TokenizationError(`merge "${a} ${b}" names a token that is not in the vocabulary`);
      const key = pairKey(left, right);
      if (!table.has(key)) table.set(key, { rank, id: merged });
    });
    this.mergeTable = table;

    this.byteFallback = options.byteFallback ?? false;
    this.byteIds = Array.from({ length: 256 }, (_, b) => this.tokenIds.get(byteToken(b)));
    this.fuseUnk = options.fuseUnk ?? false;
    this.ignoreMerges = options.ignoreMerges ?? false;
    this.unkToken = options.unkToken;
    this.unkId = options.unkToken === undefined ? undefined : this.tokenIds.get(options.unkToken);
    if (options.unkToken !== undefined && this.unkId === undefined)
      throw new TokenizationError(`unknown token "${options.unkToken}" is not in the vocabulary`);

    this.normalizers = normalizerSteps(options.normalizer);
    this.metaspace = metaspacePreTokenizer(options.preTokenizer);
    this.decoders = decoderSteps(options.decoder);

    const added = new Map<string, number>();
    const special = new Set<number>();
    for (const token of options.addedTokens) {
      const id = this.tokenIds.get(token.content);
      if (id === undefined) throw new TokenizationError(`added token "${token.content}" is not in the vocabulary`);
      added.set(token.content, id);
      if (token.special) special.add(id);
    }
    this.splitter = new SpecialTokenSplitter(added);
    this.specialIds = special;

    this.eosToken = options.eosToken ?? SENTENCEPIECE_EOS_TOKEN;
    this.eosId = this.tokenIds.get(this.eosToken);
    this.padId = this.eosId ?? 0;
    this.bosToken = options.bosToken;
    this.bosId = options.bosToken === undefined ? undefined : added.get(options.bosToken);
    if (options.bosToken !== undefined && this.bosId === undefined)
      throw new TokenizationError(`beginning-of-sequence token "${options.bosToken}" is not an added token`);
    this.source = options.tokenizerJson;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** Token strings (e.g. "▁Hello", "<0x0A>") of `text`. */
  tokenizeToStrings(text: string): string[] {
    return this.tokenize(text).ids.map((id) => this.tokens[id]!);
  }

  tokenize(text: string): TokenSequence {
    const ids: number[] = [];
    const offsets: Array<[number, number]> = [];
    for (const segment of this.splitter.split(text)) {
      if (segment.special !== undefined) {
        ids.push(segment.special);
        offsets.push([segment.start, segment.start + segment.text.length]);
        continue;
      }
      if (segment.text.length === 0) continue;
      const normalized = AlignedText.fromOriginal(segment.text, segment.start);
      for (const step of this.normalizers) step(normalized);
      for (const piece of applyMetaspace(normalized, this.metaspace)) {
        for (const symbol of this.encodeWord(piece.text)) {
          const first = piece.start + symbol.start;
          const last = piece.start + symbol.end - 1;
          ids.push(symbol.id);
          offsets.push([normalized.starts[first]!, normalized.ends[last]!]);
        }
      }
    }
    return { ids, offsets };
  }

  /** BPE on one word; spans are UTF-16 positions in the word. */
  private encodeWord(word: string): ReadonlyArray<{ id: number; start: number; end: number }> {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    let result: Array<{ id: number; start: number; end: number }>;
    const whole = this.ignoreMerges ? this.tokenIds.get(word) : undefined;
    if (whole !== undefined) {
      result = [{ id: whole, start: 0, end: word.length }];
    } else {
      result = mergeSymbols(this.initialSymbols(word), this.mergeTable);
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, result);
    return result;
  }

  /**
   * One symbol per character, as `tokenizers`' BPE `merge_word` starts: the character's token, else its
   * bytes' `<0xAB>` tokens (byte_fallback, when all 256 it needs exist), else the unknown token (one for a run
   * of unknown characters with fuse_unk), else nothing.
   */
  private initialSymbols(word: string): MergeSymbol[] {
    const symbols: MergeSymbol[] = [];
    const encoder = new TextEncoder();
    let unkRun: MergeSymbol | undefined;
    for (let i = 0; i < word.length; ) {
      const char = String.fromCodePoint(word.codePointAt(i)!);
      const start = i;
      const end = i + char.length;
      i = end;
      const id = this.tokenIds.get(char);
      if (id !== undefined) {
        unkRun = undefined;
        symbols.push({ id, start, end });
        continue;
      }
      if (this.byteFallback) {
        const byteIds = Array.from(encoder.encode(char), (b) => this.byteIds[b]);
        if (byteIds.every((b): b is number => b !== undefined)) {
          unkRun = undefined;
          for (const b of byteIds) symbols.push({ id: b, start, end });
          continue;
        }
      }
      if (this.unkId === undefined) continue;
      if (this.fuseUnk && unkRun !== undefined) {
        unkRun.end = end;
        continue;
      }
      unkRun = { id: this.unkId, start, end };
      symbols.push(unkRun);
    }
    return symbols;
  }

  postProcess(first: TokenSequence, second?: TokenSequence, options?: EncodeOptions & { stride?: number }): Encoding[] {
    return postProcessDecoder(this.bosId, first, second, options);
  }

  encode(text: string, pair?: string, options?: EncodeOptions): Encoding {
    return this.postProcess(this.tokenize(text), pair === undefined ? undefined : this.tokenize(pair), options)[0]!;
  }

  encodeOverflowing(text: string, pair: string | undefined, options: OverflowEncodeOptions): Encoding[] {
    return this.postProcess(this.tokenize(text), pair === undefined ? undefined : this.tokenize(pair), options);
  }

  /** The tokens' strings (added tokens as their text) through the file's decoder, as `tokenizers`' `decode`. */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    let tokens: string[] = [];
    for (const id of ids) {
      const token = this.tokens[id];
      if (token === undefined) throw new TokenizationError(`cannot decode id ${id}: not in the vocabulary (size ${this.vocabSize})`);
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      tokens.push(token);
    }
    for (const step of this.decoders) tokens = step(tokens);
    return tokens.join('');
  }

  /** Writes the tokenizer.json it was read from, unchanged, and its tokenizer_config.json. */
  async save(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'tokenizer.json'), this.source, 'utf8');
    await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(this.tokenizerConfig(), null, 2)}\n`, 'utf8');
    return ['tokenizer.json', 'tokenizer_config.json'];
  }

  /** The tokenizer.json it was read from, byte for byte. */
  tokenizerJson(): string {
    return this.source;
  }

  /**
   * The generic fast tokenizer (everything it does is in tokenizer.json), its special tokens (padding with the
   * end-of-sequence token, as ziplm pads), and no clean-up of spaces when decoding, so that transformers and
   * transformers.js decode as `decode` does.
   */
  tokenizerConfig(): TokenizerConfigJson {
    const config: Record<string, string | boolean> = { clean_up_tokenization_spaces: false };
    if (this.bosToken !== undefined) config.bos_token = this.bosToken;
    if (this.eosId !== undefined) Object.assign(config, { eos_token: this.eosToken, pad_token: this.eosToken });
    if (this.unkToken !== undefined) config.unk_token = this.unkToken;
    return { ...config, tokenizer_class: 'PreTrainedTokenizerFast' };
  }
}
