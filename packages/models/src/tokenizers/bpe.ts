// GPT2 byte-level BPE (Radford et al. 2019, openai/gpt-2 encoder.py): text is split by the GPT2
// regex, each piece is turned into UTF-8 bytes, every byte is shown as a printable character
// (bytes_to_unicode), and the merges are applied lowest rank first. Because every byte has a symbol,
// nothing is ever unknown and decode(encode(x)) === x for any well-formed string.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { postProcessDecoder } from '../internal/tokenizers/postprocess.js';
import { digitsStep, preTokenize, type SplitStep, splitStep, splitStepFromJson } from '../internal/tokenizers/pretokenize.js';
import { SpecialTokenSplitter } from '../internal/tokenizers/special.js';
import {
  type AddedTokenJson,
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

/** GPT2's end-of-text token; also its padding id in ziplm. */
export const GPT2_EOS_TOKEN = '<|endoftext|>';

// `\s` of the GPT2 regex as Hugging Face tokenizers (Oniguruma) and Python's `regex` read it:
// Unicode White_Space. JavaScript's `\s` differs in two characters: it adds U+FEFF and lacks U+0085.
const WS = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * Source of GPT2's pre-tokenization regex: English clitics, runs of letters / digits / other
 * symbols each with at most one leading space, and whitespace (a run of spaces before a word
 * leaves its last space to the word: `\s+(?!\S)`). Use with flags `gu`.
 */
export const GPT2_SPLIT_SOURCE = `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`;

/** A fresh GPT2 pre-tokenization regex (global: it keeps `lastIndex`, so do not share one). */
export function gpt2SplitPattern(): RegExp {
  return new RegExp(GPT2_SPLIT_SOURCE, 'gu');
}

/**
 * GPT2's reversible byte → character map: printable Latin-1 bytes map to themselves, the other 68
 * bytes to U+0100.. in order, so that no symbol is whitespace or a control character.
 * Index = byte, value = character. The order of `BYTE_ORDER` (printable first) is GPT2's id order.
 */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    table[b] = printable ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  }
  return table;
})();

/** Bytes in GPT2's order: the printable ones first, then the remapped ones (ids 0..255 of encoder.json). */
export const BYTE_ORDER: readonly number[] = (() => {
  const printable: number[] = [];
  const rest: number[] = [];
  for (let b = 0; b < 256; b++) {
    ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255) ? printable : rest).push(b);
  }
  return [...printable, ...rest];
})();

const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

export interface ByteLevelBpeOptions {
  /** token → id (vocab.json / encoder.json), or tokens in id order. */
  vocab: ReadonlyMap<string, number> | readonly string[];
  /** Merges in rank order (merges.txt / vocab.bpe without its `#version` line). */
  merges: ReadonlyArray<readonly [string, string]>;
  /** Special tokens recognised verbatim in text. Default: <|endoftext|> when the vocabulary has it. */
  specialTokens?: readonly string[];
  /** Token used for padding and as end of text. Default <|endoftext|>. */
  eosToken?: string;
  /**
   * Beginning-of-sequence token the post-processor puts before each sequence (LLaMA's TemplateProcessing
   * `<bos> $A`, pair `<bos> $A <bos> $B`); must be one of `specialTokens`. Absent: nothing is added (GPT2).
   */
  bosToken?: string;
  /**
   * Further added tokens, found verbatim in the text like the special tokens but kept by
   * `decode(ids, { skipSpecialTokens: true })` (tokenizer.json `added_tokens` with `special: false`).
   */
  addedTokens?: readonly string[];
  /**
   * The tokenizer.json `pre_tokenizer` that cuts text into words: `ByteLevel` (GPT2's regex when `use_regex`,
   * the default), `Split` (Oniguruma regex or string, any delimiter behaviour, `invert`), `Digits`, or a
   * `Sequence` of these that ends with `ByteLevel` (Llama 3: `Split` with the GPT-4 pattern, then
   * `ByteLevel` without its regex). Default GPT2's. Anything else throws a TokenizationError.
   */
  preTokenizer?: unknown;
  /** `model.ignore_merges`: a word that is itself in the vocabulary is one token, whatever the merges make of it (Llama 3). */
  ignoreMerges?: boolean;
  /**
   * The text of the Hugging Face `tokenizer.json` these settings were read from: `tokenizerJson()` returns
   * it unchanged instead of generating one (set by `loadTokenizer`).
   */
  tokenizerJson?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The splitting steps of a byte-level `pre_tokenizer` (see `ByteLevelBpeOptions.preTokenizer`). The byte-to-
 * symbol mapping of ByteLevel comes last, so it must be the last component.
 */
function byteLevelSplitSteps(json: unknown): SplitStep[] {
  const components = isRecord(json) && json.type === 'Sequence' ? json.pretokenizers : [json];
  if (!Array.isArray(components) || components.length === 0)
    throw new TokenizationError('pre_tokenizer: Sequence needs a non-empty "pretokenizers" array');
  const steps: SplitStep[] = [];
  components.forEach((component, i) => {
    const where = components.length === 1 ? 'pre_tokenizer' : `pre_tokenizer.pretokenizers[${i}]`;
    const last = i === components.length - 1;
    if (!isRecord(component)) throw new TokenizationError(`${where} must be an object`);
    if (component.type === 'ByteLevel') {
      if (!last) throw new TokenizationError(`${where}: ByteLevel must be the last pre-tokenizer`);
      if (component.add_prefix_space === true) throw new TokenizationError(`${where}: ByteLevel with add_prefix_space is not implemented`);
      if (component.use_regex !== false) steps.push(splitStep(GPT2_SPLIT_SOURCE, 'Isolated'));
    } else if (component.type === 'Split') {
      steps.push(splitStepFromJson(component, where));
    } else if (component.type === 'Digits') {
      steps.push(digitsStep(component, where));
    } else {
      throw new TokenizationError(
        `${where}: unsupported pre_tokenizer ${JSON.stringify(component.type)} (ziplm implements ByteLevel, Split, Digits and Sequence)`,
      );
    }
    if (last && component.type !== 'ByteLevel')
      throw new TokenizationError('pre_tokenizer: a byte-level BPE needs ByteLevel as its last pre-tokenizer');
  });
  return steps;
}

interface CachedWord {
  ids: number[];
  /** Per token, its [start, end) in UTF-16 units relative to the start of the pre-token. */
  spans: Int32Array;
}

const WORD_CACHE_LIMIT = 100_000;

/** GPT2-style byte-level BPE tokenizer. `encode` adds no special tokens, or the `bosToken` before each sequence when set (LLaMA). */
export class ByteLevelBpeTokenizer implements Tokenizer {
  readonly type = 'bpe' as const;
  readonly vocabSize: number;
  readonly padId: number;
  readonly eosId: number | undefined;
  readonly eosToken: string;
  /** The token put before each sequence (LLaMA), absent when none is (GPT2). */
  readonly bosToken: string | undefined;
  readonly bosId: number | undefined;
  readonly specialTokens: readonly string[];
  readonly merges: ReadonlyArray<readonly [string, string]>;

  private readonly tokenIds: Map<string, number>;
  private readonly tokens: Array<string | undefined>;
  /** "a b" → rank; merged symbols never contain a space (space is byte 0x20 → 'Ġ'). */
  private readonly ranks: Map<string, number>;
  private readonly splitter: SpecialTokenSplitter;
  private readonly specialIdSet: ReadonlySet<number>;
  private readonly cache = new Map<string, CachedWord>();
  private readonly splitPattern = gpt2SplitPattern();
  // ignoreBOM: a decoded text that starts with U+FEFF must keep it (round trip).
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly sourceTokenizerJson: string | undefined;
  /** Ids that `decode` drops with skipSpecialTokens (the special tokens, not the other added tokens). */
  private readonly skippedIds: ReadonlySet<number>;
  /** The tokenizer.json `pre_tokenizer` given, and its splitting steps; absent: GPT2's regex (the fast path). */
  private readonly preTokenizerJson: unknown;
  private readonly splitSteps: readonly SplitStep[] | undefined;
  private readonly ignoreMerges: boolean;

  constructor(options: ByteLevelBpeOptions) {
    // First, so that an unsupported pre-tokenizer is what a file with one is refused for.
    const steps = options.preTokenizer === undefined ? undefined : byteLevelSplitSteps(options.preTokenizer);
    // GPT2's own pre-tokenizer keeps the fast path (one regex, no pieces in between).
    const gpt2 =
      steps?.length === 1 &&
      steps[0]!.behavior === 'Isolated' &&
      !steps[0]!.invert &&
      steps[0]!.pattern.source === this.splitPattern.source;
    this.splitSteps = gpt2 ? undefined : steps;
    this.tokenIds = new Map();
    if (Array.isArray(options.vocab)) {
      (options.vocab as readonly string[]).forEach((t, id) => {
        this.tokenIds.set(t, id);
      });
      this.tokens = [...(options.vocab as readonly string[])];
    } else {
      let max = -1;
      for (const [t, id] of options.vocab as ReadonlyMap<string, number>) {
        if (!Number.isInteger(id) || id < 0) throw new TokenizationError(`vocabulary id of "${t}" is not a non-negative integer: ${id}`);
        // The id table below is as long as the largest id.
        if (id >= CONFIG_LIMITS.vocabSize)
          throw new TokenizationError(
            `vocabulary id of "${t}" is ${id}: ids must be < ${CONFIG_LIMITS.vocabSize} (ziplm's limit on the vocabulary size)`,
          );
        this.tokenIds.set(t, id);
        if (id > max) max = id;
      }
      this.tokens = new Array<string | undefined>(max + 1);
      for (const [t, id] of this.tokenIds) this.tokens[id] = t;
    }
    this.vocabSize = this.tokens.length;
    for (let b = 0; b < 256; b++) {
      if (!this.tokenIds.has(BYTE_TO_UNICODE[b]!)) {
        throw new TokenizationError(`byte-level vocabulary lacks the symbol of byte ${b} ("${BYTE_TO_UNICODE[b]}")`);
      }
    }
    this.ranks = new Map();
    options.merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    this.merges = options.merges;
    this.eosToken = options.eosToken ?? GPT2_EOS_TOKEN;
    this.eosId = this.tokenIds.get(this.eosToken);
    this.padId = this.eosId ?? 0;
    const specials = options.specialTokens ?? (this.eosId !== undefined ? [this.eosToken] : []);
    const specialMap = new Map<string, number>();
    for (const t of specials) {
      const id = this.tokenIds.get(t);
      if (id === undefined) throw new TokenizationError(`special token "${t}" is not in the vocabulary`);
      specialMap.set(t, id);
    }
    this.specialTokens = [...specialMap.keys()];
    this.bosToken = options.bosToken;
    this.bosId = options.bosToken === undefined ? undefined : specialMap.get(options.bosToken);
    if (options.bosToken !== undefined && this.bosId === undefined)
      throw new TokenizationError(`beginning-of-sequence token "${options.bosToken}" is not one of the special tokens`);
    this.skippedIds = new Set(specialMap.values());
    for (const t of options.addedTokens ?? []) {
      const id = this.tokenIds.get(t);
      if (id === undefined) throw new TokenizationError(`added token "${t}" is not in the vocabulary`);
      if (!specialMap.has(t)) specialMap.set(t, id);
    }
    this.splitter = new SpecialTokenSplitter(specialMap);
    this.specialIdSet = this.splitter.specialIds;
    this.sourceTokenizerJson = options.tokenizerJson;
    this.preTokenizerJson = options.preTokenizer;
    this.ignoreMerges = options.ignoreMerges ?? false;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenIds.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id];
  }

  /** Token strings (byte-level symbols, e.g. "Ġworld") of `text`. */
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
      if (this.splitSteps !== undefined) {
        for (const piece of preTokenize(segment.text, segment.start, this.splitSteps))
          this.encodeWord(piece.text, piece.start, ids, offsets);
        continue;
      }
      const pattern = this.splitPattern;
      pattern.lastIndex = 0;
      const body = segment.text;
      for (let m = pattern.exec(body); m !== null; m = pattern.exec(body)) {
        this.encodeWord(m[0], segment.start + m.index, ids, offsets);
      }
    }
    return { ids, offsets };
  }

  /** Encodes one pre-token starting at UTF-16 position `base` of the original text. */
  private encodeWord(word: string, base: number, ids: number[], offsets: Array<[number, number]>): void {
    let cached = this.cache.get(word);
    if (cached === undefined) {
      cached = this.encodeUncached(word);
      if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
      this.cache.set(word, cached);
    }
    const { spans } = cached;
    for (let k = 0; k < cached.ids.length; k++) {
      ids.push(cached.ids[k]!);
      offsets.push([base + spans[2 * k]!, base + spans[2 * k + 1]!]);
    }
  }

  private encodeUncached(word: string): CachedWord {
    // UTF-8 bytes of the word with, for each byte, the UTF-16 span of its character.
    const byteStart: number[] = [];
    const byteEnd: number[] = [];
    let symbols = '';
    const pushByte = (b: number, s: number, e: number) => {
      symbols += BYTE_TO_UNICODE[b];
      byteStart.push(s);
      byteEnd.push(e);
    };
    for (let i = 0; i < word.length; ) {
      let cp = word.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      const s = i;
      const e = s + len;
      i += len;
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate: encoded as U+FFFD, like TextEncoder
      if (cp < 0x80) pushByte(cp, s, e);
      else if (cp < 0x800) {
        pushByte(0xc0 | (cp >> 6), s, e);
        pushByte(0x80 | (cp & 63), s, e);
      } else if (cp < 0x10000) {
        pushByte(0xe0 | (cp >> 12), s, e);
        pushByte(0x80 | ((cp >> 6) & 63), s, e);
        pushByte(0x80 | (cp & 63), s, e);
      } else {
        pushByte(0xf0 | (cp >> 18), s, e);
        pushByte(0x80 | ((cp >> 12) & 63), s, e);
        pushByte(0x80 | ((cp >> 6) & 63), s, e);
        pushByte(0x80 | (cp & 63), s, e);
      }
    }
    const whole = this.ignoreMerges ? this.tokenIds.get(symbols) : undefined;
    const { ids, byteLengths } = whole !== undefined ? { ids: [whole], byteLengths: [symbols.length] } : this.bpe(symbols);
    const spans = new Int32Array(2 * ids.length);
    let pos = 0;
    for (let k = 0; k < ids.length; k++) {
      const n = byteLengths[k]!;
      // A token that holds only part of a multi-byte character spans that whole character.
      spans[2 * k] = byteStart[pos]!;
      spans[2 * k + 1] = byteEnd[pos + n - 1]!;
      pos += n;
    }
    return { ids, spans };
  }

  /**
   * Applies the merges to one word's symbols: repeatedly merge every occurrence (left to right) of
   * the adjacent pair with the lowest rank, as openai/gpt-2's `bpe()` does.
   */
  private bpe(symbolString: string): { ids: number[]; byteLengths: number[] } {
    // Byte-level symbols are all in the BMP, one UTF-16 unit each.
    let word = symbolString.split('');
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    const ids: number[] = [];
    const byteLengths: number[] = [];
    for (const symbol of word) {
      const id = this.tokenIds.get(symbol);
      if (id === undefined) {
        // Only possible with merges whose result is missing from the vocabulary (checked on load):
        // fall back to the single bytes, which always exist.
        for (const ch of symbol) {
          ids.push(this.tokenIds.get(ch)!);
          byteLengths.push(1);
        }
      } else {
        ids.push(id);
        byteLengths.push(symbol.length);
      }
    }
    return { ids, byteLengths };
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

  /** Concatenates the tokens' bytes and decodes them as UTF-8 (invalid sequences become U+FFFD). */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    let out = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) {
        out += this.decoder.decode(Uint8Array.from(bytes));
        bytes = [];
      }
    };
    for (const id of ids) {
      const token = this.tokens[id];
      if (token === undefined) throw new TokenizationError(`cannot decode id ${id}: not in the vocabulary (size ${this.vocabSize})`);
      if (this.specialIdSet.has(id)) {
        if (options.skipSpecialTokens && this.skippedIds.has(id)) continue;
        flush();
        out += token;
        continue;
      }
      for (const ch of token) {
        const b = UNICODE_TO_BYTE.get(ch);
        if (b === undefined) {
          throw new TokenizationError(`cannot decode id ${id}: token "${token}" has a character outside the byte-level alphabet`);
        }
        bytes.push(b);
      }
    }
    flush();
    return out;
  }

  /**
   * Writes `vocab.json` (token → id) and `merges.txt` (`#version: 0.2` then one merge per line), and
   * `tokenizer.json` too when those two cannot say how it tokenizes (another pre-tokenizer than GPT2's, or
   * ignore_merges: Llama 3).
   */
  async save(dir: string): Promise<string[]> {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'vocab.json'), `${JSON.stringify(vocabObject(this.tokens))}\n`, 'utf8');
    const lines = ['#version: 0.2', ...this.merges.map(([a, b]) => `${a} ${b}`)];
    await writeFile(join(dir, 'merges.txt'), `${lines.join('\n')}\n`, 'utf8');
    if (this.splitSteps === undefined && !this.ignoreMerges) return ['vocab.json', 'merges.txt'];
    await writeFile(join(dir, 'tokenizer.json'), this.tokenizerJson(), 'utf8');
    return ['vocab.json', 'merges.txt', 'tokenizer.json'];
  }

  /**
   * The `tokenizer.json` this tokenizer was loaded from, else GPT2's as `tokenizers` writes it, which runs
   * exactly as `encode` and `decode` do: no normalizer, the ByteLevel pre-tokenizer (GPT2 regex, no prefix
   * space), the BPE model with the merges in rank order (`ignore_merges: false`: every word goes through
   * the merges, as here), the special tokens as added tokens, no special tokens added around a sequence
   * (a pair's second sequence has type id 1) and the ByteLevel decoder; with the `preTokenizer`,
   * `ignoreMerges` and non-special `addedTokens` given to the constructor.
   */
  tokenizerJson(): string {
    if (this.sourceTokenizerJson !== undefined) return this.sourceTokenizerJson;
    const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
    return tokenizerJsonText({
      version: TOKENIZER_JSON_VERSION,
      truncation: null,
      padding: null,
      added_tokens: this.addedTokensJson(),
      normalizer: null,
      pre_tokenizer: this.preTokenizerJson ?? { type: 'ByteLevel', ...byteLevel },
      post_processor: this.postProcessorJson(),
      // As `tokenizers` writes GPT2's (the decoder ignores add_prefix_space).
      decoder: { type: 'ByteLevel', ...byteLevel, add_prefix_space: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: this.ignoreMerges,
        vocab: vocabObject(this.tokens),
        merges: this.merges.map(([a, b]) => [a, b]),
      },
    });
  }

  /** `added_tokens`: the special tokens, then the others with `special: false`, in id order. */
  private addedTokensJson(): AddedTokenJson[] {
    const special = specialAddedTokens(this.specialTokens, (t) => this.tokenIds.get(t));
    const others = specialAddedTokens(
      [...this.splitter.tokens].filter((t) => !this.specialTokens.includes(t)),
      (t) => this.tokenIds.get(t),
    ).map((entry) => ({ ...entry, special: false }));
    return [...special, ...others].sort((a, b) => a.id - b.id);
  }

  /** `postProcess` as a TemplateProcessing: `$A` / `$A $B:1` (GPT2), or with the bosToken before each sequence (LLaMA). */
  private postProcessorJson(): Record<string, unknown> {
    const { bosToken, bosId } = this;
    if (bosToken === undefined || bosId === undefined) {
      return templateProcessing([sequencePiece('A', 0)], [sequencePiece('A', 0), sequencePiece('B', 1)], []);
    }
    return templateProcessing(
      [specialPiece(bosToken, 0), sequencePiece('A', 0)],
      [specialPiece(bosToken, 0), sequencePiece('A', 0), specialPiece(bosToken, 1), sequencePiece('B', 1)],
      [{ token: bosToken, id: bosId }],
    );
  }

  /**
   * HF GPT2Tokenizer settings: end of text as eos, unk and pad token (ziplm pads with it) and as bos unless
   * a bosToken is set, no prefix space.
   */
  tokenizerConfig(): TokenizerConfigJson {
    const config: Record<string, string | boolean> = { tokenizer_class: 'GPT2Tokenizer', add_prefix_space: false };
    if (this.eosId !== undefined) {
      const eos = this.eosToken;
      Object.assign(config, { bos_token: eos, eos_token: eos, unk_token: eos, pad_token: eos });
    }
    if (this.bosToken !== undefined) config.bos_token = this.bosToken;
    return { ...config, tokenizer_class: 'GPT2Tokenizer' };
  }
}
