// BERT WordPiece: the basic tokenizer (bert-basic.ts) followed by greedy longest-match-first
// sub-word splitting, [CLS] A [SEP] (B [SEP]) templates, truncation and character offsets into the
// original text. Reproduces Hugging Face tokenizers' BertNormalizer + BertPreTokenizer + WordPiece +
// TemplateProcessing (checked against the real bert-base-uncased vocabulary in the tests).

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  makeBertBasicTokenizer,
  resolveBertNormalizer,
  type BasicWord,
  type BertNormalizerOptions,
  type ResolvedBertNormalizer,
} from './bert-basic.js';
import { postProcess, type SpecialTemplate } from '../internal/tokenizers/postprocess.js';
import { SpecialTokenSplitter } from '../internal/tokenizers/special.js';
import {
  TOKENIZER_JSON_VERSION,
  sequencePiece,
  specialAddedTokens,
  specialPiece,
  templateProcessing,
  tokenizerJsonText,
  vocabObject,
} from '../internal/tokenizers/tokenizer-json.js';
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
import { CONFIG_LIMITS } from '../config.js';

/** The five BERT special tokens, in the order a BERT vocabulary lists them. */
export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceTokenizerOptions extends BertNormalizerOptions {
  /** Tokens in id order (vocab.txt), or token → id (tokenizer.json). */
  vocab: readonly string[] | ReadonlyMap<string, number>;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  /** Prefix of word-internal pieces. Default `##`. */
  continuingSubwordPrefix?: string;
  /** Longer words (in code points) become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  /**
   * Tokens recognised verbatim in the raw text and never split. Default: the five BERT special
   * tokens that the vocabulary contains.
   */
  specialTokens?: readonly string[];
  /**
   * The text of the Hugging Face `tokenizer.json` these settings were read from: `tokenizerJson()` returns
   * it unchanged instead of generating one (set by `loadTokenizer`).
   */
  tokenizerJson?: string;
}

interface WordPieces {
  ids: number[];
  /** Code-point boundaries of the pieces inside the word: piece k spans [bounds[k], bounds[k+1]). */
  bounds: number[];
}

const WORD_CACHE_LIMIT = 100_000;

/** BERT WordPiece tokenizer (uncased or cased, depending on the normalizer options). */
export class WordPieceTokenizer implements Tokenizer {
  readonly type = 'wordpiece' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
  readonly maskId: number | undefined;
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
  readonly normalizer: Readonly<ResolvedBertNormalizer>;
  /** Special token strings, recognised in raw text. */
  readonly specialTokens: readonly string[];

  private readonly tokenIds: Map<string, number>;
  private readonly tokens: Array<string | undefined>;
  private readonly specialIdSet: ReadonlySet<number>;
  private readonly splitter: SpecialTokenSplitter;
  private readonly basic: (text: string, out: BasicWord[], base?: number) => void;
  private readonly template: SpecialTemplate;
  /** Longest vocabulary entry in code points (bounds the inner loop of the greedy match). */
  private readonly maxTokenChars: number;
  private readonly cache = new Map<string, WordPieces | null>();
  private readonly names: { cls: string; sep: string; pad: string; mask: string };
  private readonly sourceTokenizerJson: string | undefined;

  constructor(options: WordPieceTokenizerOptions) {
    const { vocab } = options;
    this.tokenIds = new Map();
    if (Array.isArray(vocab)) {
      // vocab.txt semantics: a token listed twice keeps its last line (as HF does).
      (vocab as readonly string[]).forEach((token, id) => {
        this.tokenIds.set(token, id);
      });
      this.tokens = [...(vocab as readonly string[])];
    } else {
      const map = vocab as ReadonlyMap<string, number>;
      let max = -1;
      for (const [token, id] of map) {
        if (!Number.isInteger(id) || id < 0)
          throw new TokenizationError(`vocabulary id of "${token}" is not a non-negative integer: ${id}`);
        // The id table below is as long as the largest id.
        if (id >= CONFIG_LIMITS.vocabSize) {
          throw new TokenizationError(
            `vocabulary id of "${token}" is ${id}: ids must be < ${CONFIG_LIMITS.vocabSize} (ziplm's limit on the vocabulary size)`,
          );
        }
        this.tokenIds.set(token, id);
        if (id > max) max = id;
      }
      this.tokens = new Array<string | undefined>(max + 1);
      for (const [token, id] of map) this.tokens[id] = token;
    }
    if (this.tokens.length === 0) throw new TokenizationError('empty vocabulary');
    this.vocabSize = this.tokens.length;
    this.normalizer = resolveBertNormalizer(options);
    this.basic = makeBertBasicTokenizer(this.normalizer);
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? '##';
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    this.unkToken = options.unkToken ?? '[UNK]';
    const unk = this.tokenIds.get(this.unkToken);
    if (unk === undefined) throw new TokenizationError(`the unknown token "${this.unkToken}" is not in the vocabulary`);
    this.unkId = unk;
    this.names = {
      cls: options.clsToken ?? '[CLS]',
      sep: options.sepToken ?? '[SEP]',
      pad: options.padToken ?? '[PAD]',
      mask: options.maskToken ?? '[MASK]',
    };
    this.clsId = this.tokenIds.get(this.names.cls);
    this.sepId = this.tokenIds.get(this.names.sep);
    this.maskId = this.tokenIds.get(this.names.mask);
    this.padId = this.tokenIds.get(this.names.pad) ?? 0;
    this.template = { cls: this.clsId, sep: this.sepId };
    const specials =
      options.specialTokens ??
      [this.names.pad, this.unkToken, this.names.cls, this.names.sep, this.names.mask].filter((t) => this.tokenIds.has(t));
    const specialMap = new Map<string, number>();
    for (const t of specials) {
      const id = this.tokenIds.get(t);
      if (id === undefined) throw new TokenizationError(`special token "${t}" is not in the vocabulary`);
      specialMap.set(t, id);
    }
    this.specialTokens = [...specialMap.keys()];
    this.splitter = new SpecialTokenSplitter(specialMap);
    this.specialIdSet = this.splitter.specialIds;
    let maxChars = 0;
    for (const t of this.tokenIds.keys()) {
      const body = t.startsWith(this.continuingSubwordPrefix) ? t.slice(this.continuingSubwordPrefix.length) : t;
      const n = codePointLength(body);
      if (n > maxChars) maxChars = n;
    }
    this.maxTokenChars = Math.max(1, maxChars);
    this.sourceTokenizerJson = options.tokenizerJson;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** Basic-tokenized words of `text` (normalized strings), without sub-word splitting. */
  basicTokenize(text: string): string[] {
    const words: BasicWord[] = [];
    this.basic(text, words);
    return words.map((w) => w.chars.join(''));
  }

  /** Token strings of `text` (no special tokens added), e.g. for inspection. */
  tokenizeToStrings(text: string): string[] {
    return this.tokenize(text).ids.map((id) => this.tokens[id]!);
  }

  tokenize(text: string): TokenSequence {
    const ids: number[] = [];
    const offsets: Array<[number, number]> = [];
    const words: BasicWord[] = [];
    for (const segment of this.splitter.split(text)) {
      if (segment.special !== undefined) {
        ids.push(segment.special);
        offsets.push([segment.start, segment.start + segment.text.length]);
        continue;
      }
      words.length = 0;
      this.basic(segment.text, words, segment.start);
      for (const word of words) {
        const pieces = this.wordPieces(word.chars);
        const last = word.chars.length - 1;
        if (pieces === null) {
          ids.push(this.unkId);
          offsets.push([word.starts[0]!, word.ends[last]!]);
          continue;
        }
        for (let k = 0; k < pieces.ids.length; k++) {
          ids.push(pieces.ids[k]!);
          offsets.push([word.starts[pieces.bounds[k]!]!, word.ends[pieces.bounds[k + 1]! - 1]!]);
        }
      }
    }
    return { ids, offsets };
  }

  /**
   * Greedy longest-match-first split of one word (Schuster & Nakajima's WordPiece as used by BERT):
   * null when some position matches nothing, in which case the whole word is [UNK].
   */
  private wordPieces(chars: string[]): WordPieces | null {
    const key = chars.join('');
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let result: WordPieces | null = null;
    if (chars.length <= this.maxInputCharsPerWord) {
      const ids: number[] = [];
      const bounds: number[] = [0];
      let start = 0;
      let ok = true;
      while (start < chars.length) {
        let end = Math.min(chars.length, start + this.maxTokenChars);
        let found = -1;
        while (end > start) {
          let sub = chars.slice(start, end).join('');
          if (start > 0) sub = this.continuingSubwordPrefix + sub;
          const id = this.tokenIds.get(sub);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          ok = false;
          break;
        }
        ids.push(found);
        bounds.push(end);
        start = end;
      }
      if (ok) result = { ids, bounds };
    }
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }

  postProcess(first: TokenSequence, second?: TokenSequence, options?: EncodeOptions & { stride?: number }): Encoding[] {
    return postProcess(this.template, first, second, options);
  }

  encode(text: string, pair?: string, options?: EncodeOptions): Encoding {
    return this.postProcess(this.tokenize(text), pair === undefined ? undefined : this.tokenize(pair), options)[0]!;
  }

  encodeOverflowing(text: string, pair: string | undefined, options: OverflowEncodeOptions): Encoding[] {
    return this.postProcess(this.tokenize(text), pair === undefined ? undefined : this.tokenize(pair), options);
  }

  /**
   * Joins tokens with spaces, glues `##` pieces to their word and applies HF's
   * `clean_up_tokenization` (" ." → ".", " n't" → "n't", ...). Lower-casing and accent stripping
   * are not undone, so this is not an inverse of `encode`.
   */
  decode(ids: readonly number[], options: DecodeOptions & { cleanup?: boolean } = {}): string {
    const parts: string[] = [];
    for (const id of ids) {
      const token = this.tokens[id];
      if (token === undefined) throw new TokenizationError(`cannot decode id ${id}: not in the vocabulary (size ${this.vocabSize})`);
      if (options.skipSpecialTokens && this.specialIdSet.has(id)) continue;
      parts.push(token);
    }
    let text = parts.join(' ').split(` ${this.continuingSubwordPrefix}`).join('').trim();
    if (options.cleanup ?? true) text = cleanUpTokenization(text);
    return text;
  }

  /** Tokens in id order (throws if the ids have holes, which vocab.txt cannot express). */
  vocabulary(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.tokens.length; id++) {
      const t = this.tokens[id];
      if (t === undefined) throw new TokenizationError(`vocabulary has no token with id ${id}; it cannot be written as vocab.txt`);
      out.push(t);
    }
    return out;
  }

  /**
   * Writes `vocab.txt` (one token per line, line number = id) and `tokenizer_config.json` (HF
   * BertTokenizer settings: do_lower_case, strip_accents, tokenize_chinese_chars, special tokens).
   */
  async save(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'vocab.txt'), `${this.vocabulary().join('\n')}\n`, 'utf8');
    await writeFile(join(dir, 'tokenizer_config.json'), `${JSON.stringify(this.tokenizerConfig(), null, 2)}\n`, 'utf8');
    return ['vocab.txt', 'tokenizer_config.json'];
  }

  /** HF BertTokenizer settings: do_lower_case, strip_accents, tokenize_chinese_chars, special tokens. */
  tokenizerConfig(): TokenizerConfigJson {
    return {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: this.normalizer.lowercase,
      strip_accents: this.normalizer.stripAccents,
      tokenize_chinese_chars: this.normalizer.handleChineseChars,
      clean_text: this.normalizer.cleanText,
      unk_token: this.unkToken,
      cls_token: this.names.cls,
      sep_token: this.names.sep,
      pad_token: this.names.pad,
      mask_token: this.names.mask,
      continuing_subword_prefix: this.continuingSubwordPrefix,
      max_input_chars_per_word: this.maxInputCharsPerWord,
    };
  }

  /**
   * The `tokenizer.json` this tokenizer was loaded from, else one that `tokenizers` (and transformers.js)
   * run exactly as `encode` and `decode` do: BertNormalizer with the resolved settings (strip_accents
   * written out rather than null), BertPreTokenizer, the WordPiece model, the special tokens as added
   * tokens, `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` templates with B's type id 1 (no special tokens
   * when the vocabulary lacks [CLS] or [SEP], as `postProcess` does), and the WordPiece decoder with
   * `clean_up_tokenization`.
   */
  tokenizerJson(): string {
    if (this.sourceTokenizerJson !== undefined) return this.sourceTokenizerJson;
    const { cls, sep } = this.names;
    const { clsId, sepId } = this;
    const post =
      clsId !== undefined && sepId !== undefined
        ? templateProcessing(
            [specialPiece(cls, 0), sequencePiece('A', 0), specialPiece(sep, 0)],
            [specialPiece(cls, 0), sequencePiece('A', 0), specialPiece(sep, 0), sequencePiece('B', 1), specialPiece(sep, 1)],
            [
              { token: cls, id: clsId },
              { token: sep, id: sepId },
            ],
          )
        : templateProcessing([sequencePiece('A', 0)], [sequencePiece('A', 0), sequencePiece('B', 1)], []);
    return tokenizerJsonText({
      version: TOKENIZER_JSON_VERSION,
      truncation: null,
      padding: null,
      added_tokens: specialAddedTokens(this.specialTokens, (t) => this.tokenIds.get(t)),
      normalizer: {
        type: 'BertNormalizer',
        clean_text: this.normalizer.cleanText,
        handle_chinese_chars: this.normalizer.handleChineseChars,
        strip_accents: this.normalizer.stripAccents,
        lowercase: this.normalizer.lowercase,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: post,
      decoder: { type: 'WordPiece', prefix: this.continuingSubwordPrefix, cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: this.unkToken,
        continuing_subword_prefix: this.continuingSubwordPrefix,
        max_input_chars_per_word: this.maxInputCharsPerWord,
        vocab: vocabObject(this.tokens),
      },
    });
  }
}

/** HF `clean_up_tokenization`: removes the spaces a word-level join puts before punctuation and clitics. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
