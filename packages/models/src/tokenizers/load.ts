// Reading vocabularies in Hugging Face layouts: vocab.txt (+ tokenizer_config.json) or
// tokenizer.json for BERT WordPiece, vocab.json + merges.txt (GPT2's encoder.json + vocab.bpe under
// other names) or tokenizer.json for byte-level BPE (GPT2), and tokenizer.json for the LLaMA family:
// byte-level BPE with any Split / Digits pre-tokenizer (Llama 3) or SentencePiece-style BPE with "▁" and
// byte fallback (Llama 2, TinyLlama, Mistral), with the beginning-of-sequence token of the
// TemplateProcessing post-processor. Every problem is a VocabularyError that names the file (and line,
// where there are lines) and, for a component ziplm does not implement, that component.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJsonWithLocation } from '../internal/json.js';
import { readTextFile } from '../internal/text-file.js';
import { CONFIG_LIMITS } from '../config.js';
import { VocabularyError } from '../errors.js';
import type { BertNormalizerOptions } from './bert-basic.js';
import { ByteLevelBpeTokenizer } from './bpe.js';
import { type SentencePieceAddedToken, SentencePieceBpeTokenizer } from './sentencepiece-bpe.js';
import type { Tokenizer } from './types.js';
import { TokenizationError } from './types.js';
import { WordPieceTokenizer, type WordPieceTokenizerOptions } from './wordpiece.js';

/**
 * Reads a tokenizer file within the input limits (a regular file only; line-based files also within
 * the line limit), BOM dropped, CRLF turned into LF.
 */
async function readText(file: string, lineBased = false): Promise<string> {
  return readTextFile(file, { lineBased }, (problem, cause) => {
    throw new VocabularyError(file, problem, cause === undefined ? undefined : { cause });
  });
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** JSON.parse; errors name the file, line and column. */
function parseJson(text: string, file: string): unknown {
  return parseJsonWithLocation(text, (message) => {
    throw new VocabularyError(file, message);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Wraps constructor errors (unknown [UNK], missing byte symbols, ...) into a VocabularyError for `file`. */
function build<T>(file: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof TokenizationError) throw new VocabularyError(file, err.message, { cause: err });
    throw err;
  }
}

/** Parses vocab.txt text: one token per line, line number (from 0) = id. */
export function parseVocabTxt(text: string, file: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new VocabularyError(file, 'empty vocabulary');
  // HF tokenizers trims trailing whitespace of each line (this also removes a Windows '\r').
  const tokens = lines.map((l) => l.trimEnd());
  tokens.forEach((t, i) => {
    if (t.length === 0) throw new VocabularyError(file, `line ${i + 1}: empty token`);
  });
  return tokens;
}

/** Loads a WordPiece tokenizer from a vocab.txt file; normalizer and token options as given. */
export async function loadWordPieceVocabTxt(
  file: string,
  options: Omit<WordPieceTokenizerOptions, 'vocab'> = {},
): Promise<WordPieceTokenizer> {
  const vocab = parseVocabTxt(await readText(file, true), file);
  return requireBertSpecials(
    build(file, () => new WordPieceTokenizer({ ...options, vocab })),
    options,
    file,
  );
}

/** Reads HF tokenizer_config.json settings of a BertTokenizer (missing file = defaults). */
export async function readBertTokenizerConfig(file: string): Promise<Omit<WordPieceTokenizerOptions, 'vocab'>> {
  if (!(await exists(file))) return {};
  const json = parseJson(await readText(file), file);
  if (!isRecord(json)) throw new VocabularyError(file, 'expected a JSON object');
  const out: Omit<WordPieceTokenizerOptions, 'vocab'> & Record<string, unknown> = {};
  const bool = (key: string): boolean | undefined => {
    const v = json[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new VocabularyError(file, `"${key}" must be true, false or null`);
    return v;
  };
  const str = (key: string): string | undefined => {
    const v = json[key];
    if (v === undefined || v === null) return undefined;
    // Newer HF files may store special tokens as AddedToken objects {content: ...}.
    if (isRecord(v) && typeof v.content === 'string') return v.content;
    if (typeof v !== 'string') throw new VocabularyError(file, `"${key}" must be a string`);
    return v;
  };
  const set = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  set('lowercase', bool('do_lower_case'));
  set('stripAccents', bool('strip_accents'));
  set('handleChineseChars', bool('tokenize_chinese_chars'));
  set('cleanText', bool('clean_text'));
  set('unkToken', str('unk_token'));
  set('clsToken', str('cls_token'));
  set('sepToken', str('sep_token'));
  set('padToken', str('pad_token'));
  set('maskToken', str('mask_token'));
  set('continuingSubwordPrefix', str('continuing_subword_prefix'));
  const maxChars = json.max_input_chars_per_word;
  if (maxChars !== undefined) {
    if (!Number.isInteger(maxChars) || (maxChars as number) <= 0)
      throw new VocabularyError(file, '"max_input_chars_per_word" must be a positive integer');
    out.maxInputCharsPerWord = maxChars as number;
  }
  return out;
}

/**
 * A token id must be an integer in [0, CONFIG_LIMITS.vocabSize): the tokenizer allocates a table up
 * to its largest id, so an id of 2^32 used to crash with a RangeError. Whether the ids fit the
 * model's embedding is checked against config.json by `loadModelDir`.
 */
function checkTokenId(id: unknown, what: string, file: string): void {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
    throw new VocabularyError(file, `${what} is not a non-negative integer id (got ${JSON.stringify(id)})`);
  if (id >= CONFIG_LIMITS.vocabSize) {
    throw new VocabularyError(
      file,
      `${what} has id ${id}: token ids must be < ${CONFIG_LIMITS.vocabSize} (ziplm's limit on the vocabulary size)`,
    );
  }
}

/**
 * Refuses a BERT vocabulary without the [CLS] or [SEP] of its template: without them every input
 * lacks the tokens the classifier and the span head were trained on, and scores silently drop to
 * chance (a vocab.txt without [CLS]/[SEP] scored 50% and `ziplm check` said OK).
 */
function requireBertSpecials(
  tokenizer: WordPieceTokenizer,
  options: Pick<WordPieceTokenizerOptions, 'clsToken' | 'sepToken'>,
  file: string,
): WordPieceTokenizer {
  const cls = options.clsToken ?? '[CLS]';
  const sep = options.sepToken ?? '[SEP]';
  for (const [role, id, token] of [
    ['classification', tokenizer.clsId, cls],
    ['separator', tokenizer.sepId, sep],
  ] as const) {
    if (id === undefined) {
      throw new VocabularyError(file, `has no ${role} token "${token}": every BERT input is built as ${cls} text ${sep}`);
    }
  }
  return tokenizer;
}

/** Refuses a GPT2 (LLaMA) vocabulary without its end-of-text token (the separator and padding of every sequence ziplm builds). */
function requireGpt2Eos(tokenizer: ByteLevelBpeTokenizer, file: string): ByteLevelBpeTokenizer {
  if (tokenizer.eosId === undefined) {
    throw new VocabularyError(file, `has no end-of-text token "${tokenizer.eosToken}": GPT2 separates and pads sequences with it`);
  }
  return tokenizer;
}

function readVocabObject(model: Record<string, unknown>, file: string): Map<string, number> {
  if (!isRecord(model.vocab)) throw new VocabularyError(file, 'model.vocab must be an object of token → id');
  const vocab = new Map<string, number>();
  const byId = new Map<number, string>();
  for (const [token, id] of Object.entries(model.vocab)) {
    checkTokenId(id, `model.vocab["${token}"]`, file);
    const other = byId.get(id as number);
    if (other !== undefined) throw new VocabularyError(file, `model.vocab gives id ${id} to both "${other}" and "${token}"`);
    byId.set(id as number, token);
    vocab.set(token, id as number);
  }
  if (vocab.size === 0) throw new VocabularyError(file, 'model.vocab is empty');
  return vocab;
}

/** Added tokens of a tokenizer.json (`added_tokens[].content/id`), merged into `vocab`. */
function readAddedTokens(json: Record<string, unknown>, vocab: Map<string, number>, file: string): string[] {
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) throw new VocabularyError(file, 'added_tokens must be an array');
  const specials: string[] = [];
  added.forEach((t, i) => {
    if (!isRecord(t) || typeof t.content !== 'string' || !Number.isInteger(t.id)) {
      throw new VocabularyError(file, `added_tokens[${i}] needs a string "content" and an integer "id"`);
    }
    checkTokenId(t.id, `added_tokens[${i}] "${t.content}"`, file);
    const known = vocab.get(t.content);
    if (known !== undefined && known !== t.id) {
      throw new VocabularyError(file, `added_tokens[${i}] "${t.content}" has id ${t.id} but model.vocab says ${known}`);
    }
    vocab.set(t.content, t.id as number);
    specials.push(t.content);
  });
  return specials;
}

/**
 * Loads a BERT WordPiece tokenizer from a Hugging Face tokenizer.json: BertNormalizer settings
 * (clean_text, handle_chinese_chars, strip_accents, lowercase), BertPreTokenizer, WordPiece model
 * (vocab, unk_token, continuing_subword_prefix, max_input_chars_per_word), added tokens, and the
 * [CLS]/[SEP] of the post-processor.
 */
export async function loadWordPieceTokenizerJson(file: string): Promise<WordPieceTokenizer> {
  const source = await readText(file);
  const json = parseJson(source, file);
  if (!isRecord(json)) throw new VocabularyError(file, 'expected a JSON object');
  const model = json.model;
  if (!isRecord(model) || model.type !== 'WordPiece') {
    throw new VocabularyError(file, `model.type is ${isRecord(model) ? JSON.stringify(model.type) : 'missing'}, expected "WordPiece"`);
  }
  const vocab = readVocabObject(model, file);
  const options: Omit<WordPieceTokenizerOptions, 'vocab'> = {};
  const normalizer = json.normalizer;
  if (normalizer === null || normalizer === undefined) {
    Object.assign(options, {
      cleanText: false,
      handleChineseChars: false,
      stripAccents: false,
      lowercase: false,
    } satisfies BertNormalizerOptions);
  } else if (isRecord(normalizer) && normalizer.type === 'BertNormalizer') {
    const flag = (key: string, fallback: boolean | undefined): boolean | undefined => {
      const v = normalizer[key];
      if (v === undefined || v === null) return fallback;
      if (typeof v !== 'boolean') throw new VocabularyError(file, `normalizer.${key} must be true, false or null`);
      return v;
    };
    options.cleanText = flag('clean_text', true);
    options.handleChineseChars = flag('handle_chinese_chars', true);
    options.lowercase = flag('lowercase', true);
    options.stripAccents = flag('strip_accents', undefined); // null: follows lowercase
  } else {
    throw new VocabularyError(
      file,
      `unsupported normalizer ${JSON.stringify(isRecord(normalizer) ? normalizer.type : normalizer)}; only BertNormalizer is implemented`,
    );
  }
  const pre = json.pre_tokenizer;
  if (!isRecord(pre) || pre.type !== 'BertPreTokenizer') {
    throw new VocabularyError(
      file,
      `unsupported pre_tokenizer ${JSON.stringify(isRecord(pre) ? pre.type : pre)}; only BertPreTokenizer is implemented`,
    );
  }
  if (model.unk_token !== undefined) {
    if (typeof model.unk_token !== 'string') throw new VocabularyError(file, 'model.unk_token must be a string');
    options.unkToken = model.unk_token;
  }
  if (model.continuing_subword_prefix !== undefined) {
    if (typeof model.continuing_subword_prefix !== 'string')
      throw new VocabularyError(file, 'model.continuing_subword_prefix must be a string');
    options.continuingSubwordPrefix = model.continuing_subword_prefix;
  }
  if (model.max_input_chars_per_word !== undefined) {
    const m = model.max_input_chars_per_word;
    if (!Number.isInteger(m) || (m as number) <= 0)
      throw new VocabularyError(file, 'model.max_input_chars_per_word must be a positive integer');
    options.maxInputCharsPerWord = m as number;
  }
  options.specialTokens = readAddedTokens(json, vocab, file);
  // [CLS]/[SEP] from the post-processor (TemplateProcessing or BertProcessing).
  const post = json.post_processor;
  if (isRecord(post)) {
    if (post.type === 'BertProcessing' && Array.isArray(post.cls) && Array.isArray(post.sep)) {
      options.clsToken = String(post.cls[0]);
      options.sepToken = String(post.sep[0]);
    } else if (post.type === 'TemplateProcessing' && Array.isArray(post.single)) {
      const specials = post.single.filter((p): p is { SpecialToken: { id: string } } => isRecord(p) && isRecord(p.SpecialToken));
      if (specials.length === 2) {
        options.clsToken = specials[0]!.SpecialToken.id;
        options.sepToken = specials[1]!.SpecialToken.id;
      }
    }
  }
  return requireBertSpecials(
    build(file, () => new WordPieceTokenizer({ ...options, vocab, tokenizerJson: source })),
    options,
    file,
  );
}

/** Parses merges.txt text into pairs (skipping a leading `#version` line). */
export function parseMerges(text: string, file: string, vocab?: ReadonlyMap<string, number>): Array<[string, string]> {
  const lines = text.split('\n');
  const merges: Array<[string, string]> = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('#version')) return;
    if (line.length === 0) {
      if (i === lines.length - 1) return; // final newline
      throw new VocabularyError(file, `line ${i + 1}: empty merge line`);
    }
    const parts = line.split(' ');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new VocabularyError(file, `line ${i + 1}: expected two symbols separated by one space, got ${JSON.stringify(line)}`);
    }
    if (vocab) {
      for (const s of [parts[0], parts[1], parts[0] + parts[1]]) {
        if (!vocab.has(s)) throw new VocabularyError(file, `line ${i + 1}: "${s}" of merge "${line}" is not in the vocabulary`);
      }
    }
    merges.push([parts[0], parts[1]]);
  });
  return merges;
}

/** Loads GPT2 byte-level BPE from vocab.json (encoder.json) + merges.txt (vocab.bpe). */
export async function loadByteLevelBpe(vocabFile: string, mergesFile: string): Promise<ByteLevelBpeTokenizer> {
  const json = parseJson(await readText(vocabFile), vocabFile);
  if (!isRecord(json)) throw new VocabularyError(vocabFile, 'expected a JSON object of token → id');
  const vocab = readVocabObject({ vocab: json }, vocabFile);
  const merges = parseMerges(await readText(mergesFile, true), mergesFile, vocab);
  return requireGpt2Eos(
    build(vocabFile, () => new ByteLevelBpeTokenizer({ vocab, merges })),
    vocabFile,
  );
}

/**
 * The token a TemplateProcessing post-processor puts before each sequence: `<bos> $A` gives `<bos>`,
 * `$A` (GPT2's) nothing. Any other template (a token after the sequence, several before it) is refused,
 * since encode would silently produce other ids than the tokenizer the file describes.
 */
function templateBosToken(json: Record<string, unknown>, file: string): string | undefined {
  const post = json.post_processor;
  if (!isRecord(post) || post.type !== 'TemplateProcessing') return undefined;
  const single = post.single;
  if (!Array.isArray(single)) throw new VocabularyError(file, 'post_processor.single must be an array');
  const describe = (piece: unknown): string =>
    isRecord(piece) && isRecord(piece.SpecialToken)
      ? `special:${String(piece.SpecialToken.id)}`
      : isRecord(piece) && isRecord(piece.Sequence)
        ? 'sequence'
        : 'other';
  const pieces = single.map(describe);
  if (pieces.length === 1 && pieces[0] === 'sequence') return undefined;
  if (pieces.length === 2 && pieces[0]!.startsWith('special:') && pieces[1] === 'sequence') return pieces[0]!.slice('special:'.length);
  throw new VocabularyError(
    file,
    `post_processor TemplateProcessing single ${JSON.stringify(pieces)} is not supported: ziplm implements "$A" (GPT2) and "<bos> $A" (LLaMA)`,
  );
}

/** A special token setting of tokenizer_config.json (a string or an AddedToken object), undefined when absent. */
async function tokenizerConfigToken(file: string, key: string): Promise<string | undefined> {
  if (!(await exists(file))) return undefined;
  const json = parseJson(await readText(file), file);
  if (!isRecord(json)) throw new VocabularyError(file, 'expected a JSON object');
  const v = json[key];
  if (v === undefined || v === null) return undefined;
  if (isRecord(v) && typeof v.content === 'string') return v.content;
  if (typeof v !== 'string') throw new VocabularyError(file, `"${key}" must be a string`);
  return v;
}

/**
 * Loads byte-level BPE from a Hugging Face tokenizer.json with a BPE model and a ByteLevel pre-tokenizer.
 * A TemplateProcessing `<bos> $A` post-processor (LLaMA) makes `encode` put that token before each
 * sequence. `eosToken`: the end-of-text token (default GPT2's `<|endoftext|>`).
 */
export async function loadByteLevelBpeTokenizerJson(file: string, eosToken?: string): Promise<ByteLevelBpeTokenizer> {
  const source = await readText(file);
  const json = parseJson(source, file);
  if (!isRecord(json)) throw new VocabularyError(file, 'expected a JSON object');
  const model = json.model;
  if (!isRecord(model) || model.type !== 'BPE') {
    throw new VocabularyError(file, `model.type is ${isRecord(model) ? JSON.stringify(model.type) : 'missing'}, expected "BPE"`);
  }
  const pre = json.pre_tokenizer;
  if (!isRecord(pre) || pre.type !== 'ByteLevel' || pre.add_prefix_space === true) {
    throw new VocabularyError(file, 'only a ByteLevel pre_tokenizer without add_prefix_space (GPT2) is implemented');
  }
  const vocab = readVocabObject(model, file);
  const rawMerges = model.merges;
  if (!Array.isArray(rawMerges)) throw new VocabularyError(file, 'model.merges must be an array');
  // Older files store "a b" strings, newer ones [a, b] pairs.
  const text = rawMerges
    .map((m, i) => {
      if (typeof m === 'string') return m;
      if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return `${m[0]} ${m[1]}`;
      throw new VocabularyError(file, `model.merges[${i}] must be "a b" or ["a", "b"]`);
    })
    .join('\n');
  const merges = parseMerges(text, file, vocab);
  const specials = readAddedTokens(json, vocab, file);
  const bosToken = templateBosToken(json, file);
  if (bosToken !== undefined && !specials.includes(bosToken))
    throw new VocabularyError(file, `post_processor puts "${bosToken}" before each sequence, but it is not in added_tokens`);
  return requireGpt2Eos(
    build(
      file,
      () =>
        new ByteLevelBpeTokenizer({
          vocab,
          merges,
          specialTokens: specials,
          tokenizerJson: source,
          ...(bosToken !== undefined ? { bosToken } : {}),
          ...(eosToken !== undefined ? { eosToken } : {}),
        }),
    ),
    file,
  );
}

/** The `added_tokens` of a LLaMA-family tokenizer.json, refusing the matching rules ziplm does not implement. */
function readLlamaAddedTokens(json: Record<string, unknown>, vocab: Map<string, number>, file: string): SentencePieceAddedToken[] {
  const contents = readAddedTokens(json, vocab, file);
  const entries = json.added_tokens as Array<Record<string, unknown>> | undefined;
  const hasNormalizer = json.normalizer !== null && json.normalizer !== undefined;
  return contents.map((content, i) => {
    const entry = entries![i]!;
    for (const flag of ['lstrip', 'rstrip', 'single_word'] as const) {
      if (entry[flag] === true)
        throw new VocabularyError(file, `added_tokens[${i}] "${content}" has ${flag}: true, which ziplm does not implement`);
    }
    // A normalized added token is matched in the normalized text (after "▁" replaced the spaces), and
    // its own text normalized first: refused rather than matched in the raw text.
    if (entry.normalized === true && hasNormalizer)
      throw new VocabularyError(
        file,
        `added_tokens[${i}] "${content}" has normalized: true with a normalizer, which ziplm does not implement`,
      );
    return { content, special: entry.special !== false };
  });
}

/**
 * The beginning-of-sequence token of a LLaMA-family post-processor: TemplateProcessing (see
 * `templateBosToken`), possibly in a Sequence after a ByteLevel post-processor that leaves offsets as they
 * are (Llama 3: `trim_offsets: false`); null adds nothing.
 */
function llamaBosToken(json: Record<string, unknown>, file: string): string | undefined {
  const post = json.post_processor;
  if (post === null || post === undefined) return undefined;
  const processors = isRecord(post) && post.type === 'Sequence' ? post.processors : [post];
  if (!Array.isArray(processors)) throw new VocabularyError(file, 'post_processor: Sequence needs a "processors" array');
  let bos: string | undefined;
  processors.forEach((processor, i) => {
    const where = processors.length === 1 ? 'post_processor' : `post_processor.processors[${i}]`;
    if (isRecord(processor) && processor.type === 'ByteLevel') {
      if (processor.trim_offsets !== false)
        throw new VocabularyError(file, `${where}: ByteLevel with trim_offsets is not implemented (offsets would differ)`);
    } else if (isRecord(processor) && processor.type === 'TemplateProcessing') {
      bos = templateBosToken({ post_processor: processor }, file);
    } else {
      throw new VocabularyError(
        file,
        `${where}: unsupported post_processor ${JSON.stringify(isRecord(processor) ? processor.type : processor)} (ziplm implements TemplateProcessing and ByteLevel without trim_offsets)`,
      );
    }
  });
  return bos;
}

/** Whether a tokenizer.json `pre_tokenizer` contains ByteLevel (the byte-level family) or not (SentencePiece style). */
function hasByteLevel(pre: unknown): boolean {
  if (!isRecord(pre)) return false;
  if (pre.type === 'ByteLevel') return true;
  return pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) && pre.pretokenizers.some(hasByteLevel);
}

/** The settings of a BPE model that ziplm does not implement, refused by name. */
function refuseBpeModelSettings(model: Record<string, unknown>, file: string): void {
  if (model.dropout !== null && model.dropout !== undefined && model.dropout !== 0)
    throw new VocabularyError(file, 'model.dropout (BPE dropout) is not implemented');
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    const v = model[key];
    if (v !== null && v !== undefined && v !== '') throw new VocabularyError(file, `model.${key} ${JSON.stringify(v)} is not implemented`);
  }
}

function optionalFlag(model: Record<string, unknown>, key: string, file: string): boolean {
  const v = model[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new VocabularyError(file, `model.${key} must be true or false`);
  return v;
}

/** `model.merges`: "a b" strings (older files) or [a, b] pairs (newer ones). */
function readJsonMerges(model: Record<string, unknown>, file: string, vocab: ReadonlyMap<string, number>): Array<[string, string]> {
  const rawMerges = model.merges;
  if (!Array.isArray(rawMerges)) throw new VocabularyError(file, 'model.merges must be an array');
  return rawMerges.map((m, i): [string, string] => {
    let pair: [string, string];
    if (typeof m === 'string') {
      // A SentencePiece merge never contains a space ("▁" stands for it), so the first space separates.
      const space = m.indexOf(' ');
      if (space <= 0 || space === m.length - 1) throw new VocabularyError(file, `model.merges[${i}] ${JSON.stringify(m)} is not "a b"`);
      pair = [m.slice(0, space), m.slice(space + 1)];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      pair = [m[0], m[1]];
    } else {
      throw new VocabularyError(file, `model.merges[${i}] must be "a b" or ["a", "b"]`);
    }
    for (const symbol of [pair[0], pair[1], pair[0] + pair[1]]) {
      if (!vocab.has(symbol)) throw new VocabularyError(file, `model.merges[${i}]: "${symbol}" is not in the vocabulary`);
    }
    return pair;
  });
}

/**
 * Loads a LLaMA-family tokenizer.json (a BPE model), choosing the implementation from its pre-tokenizer:
 * - with `ByteLevel` (alone, or after `Split` / `Digits`: Llama 3): `ByteLevelBpeTokenizer`, no normalizer,
 *   the ByteLevel decoder, `ignore_merges` as the file says;
 * - without (a Prepend + Replace normalizer or a Metaspace pre-tokenizer: Llama 2, TinyLlama, Mistral):
 *   `SentencePieceBpeTokenizer` with `byte_fallback`, `fuse_unk`, `unk_token` and the file's decoder.
 * Added tokens are split out of the raw text first; a TemplateProcessing `<bos> $A` puts the
 * beginning-of-sequence token before each sequence. `eosToken`: tokenizer_config.json's, else
 * `<|endoftext|>` (byte level) or `</s>` (SentencePiece). Whatever ziplm cannot reproduce exactly is a
 * VocabularyError naming the file and the component.
 */
export async function loadLlamaTokenizerJson(file: string, eosToken?: string): Promise<ByteLevelBpeTokenizer | SentencePieceBpeTokenizer> {
  const source = await readText(file);
  const json = parseJson(source, file);
  if (!isRecord(json)) throw new VocabularyError(file, 'expected a JSON object');
  const model = json.model;
  if (!isRecord(model) || model.type !== 'BPE') {
    throw new VocabularyError(
      file,
      `model.type is ${isRecord(model) ? JSON.stringify(model.type) : 'missing'}, expected "BPE" (ziplm reads LLaMA-family BPE vocabularies)`,
    );
  }
  refuseBpeModelSettings(model, file);
  const vocab = readVocabObject(model, file);
  const merges = readJsonMerges(model, file, vocab);
  const addedTokens = readLlamaAddedTokens(json, vocab, file);
  const bosToken = llamaBosToken(json, file);
  if (bosToken !== undefined && !addedTokens.some((t) => t.content === bosToken))
    throw new VocabularyError(file, `post_processor puts "${bosToken}" before each sequence, but it is not in added_tokens`);
  const ignoreMerges = optionalFlag(model, 'ignore_merges', file);
  if (hasByteLevel(json.pre_tokenizer)) {
    if (json.normalizer !== null && json.normalizer !== undefined)
      throw new VocabularyError(
        file,
        `unsupported normalizer ${JSON.stringify(isRecord(json.normalizer) ? json.normalizer.type : json.normalizer)} with a ByteLevel pre_tokenizer (ziplm implements none)`,
      );
    const decoder = json.decoder;
    if (decoder !== null && decoder !== undefined && !(isRecord(decoder) && decoder.type === 'ByteLevel'))
      throw new VocabularyError(
        file,
        `unsupported decoder ${JSON.stringify(isRecord(decoder) ? decoder.type : decoder)} with a ByteLevel pre_tokenizer (ziplm implements ByteLevel)`,
      );
    const tokenizer = build(
      file,
      () =>
        new ByteLevelBpeTokenizer({
          vocab,
          merges,
          specialTokens: addedTokens.filter((t) => t.special).map((t) => t.content),
          addedTokens: addedTokens.filter((t) => !t.special).map((t) => t.content),
          preTokenizer: json.pre_tokenizer,
          ignoreMerges,
          tokenizerJson: source,
          ...(bosToken !== undefined ? { bosToken } : {}),
          ...(eosToken !== undefined ? { eosToken } : {}),
        }),
    );
    return requireGpt2Eos(tokenizer, file);
  }
  let unkToken: string | undefined;
  if (model.unk_token !== null && model.unk_token !== undefined) {
    if (typeof model.unk_token !== 'string') throw new VocabularyError(file, 'model.unk_token must be a string');
    unkToken = model.unk_token;
  }
  const tokenizer = build(
    file,
    () =>
      new SentencePieceBpeTokenizer({
        vocab,
        merges,
        ...(unkToken !== undefined ? { unkToken } : {}),
        byteFallback: optionalFlag(model, 'byte_fallback', file),
        fuseUnk: optionalFlag(model, 'fuse_unk', file),
        ignoreMerges,
        normalizer: json.normalizer,
        preTokenizer: json.pre_tokenizer,
        decoder: json.decoder,
        addedTokens,
        tokenizerJson: source,
        ...(bosToken !== undefined ? { bosToken } : {}),
        ...(eosToken !== undefined ? { eosToken } : {}),
      }),
  );
  if (tokenizer.eosId === undefined)
    throw new VocabularyError(file, `has no end-of-sequence token "${tokenizer.eosToken}": ziplm separates and pads sequences with it`);
  return tokenizer;
}

/**
 * Loads the tokenizer of a checkpoint directory in Hugging Face layout.
 * - `bert`: tokenizer.json if present, else vocab.txt (+ tokenizer_config.json).
 * - `gpt2`: vocab.json + merges.txt if present, else tokenizer.json.
 * - `llama`: tokenizer.json, byte-level BPE (Llama 3) or SentencePiece-style BPE (Llama 2, Mistral), see
 *   `loadLlamaTokenizerJson`, with the end-of-text token of tokenizer_config.json's `eos_token`.
 * Throws VocabularyError when the files are missing or malformed.
 */
export async function loadTokenizer(dir: string, modelType: 'bert' | 'gpt2' | 'llama'): Promise<Tokenizer> {
  const tokenizerJson = join(dir, 'tokenizer.json');
  if (modelType === 'bert') {
    if (await exists(tokenizerJson)) return loadWordPieceTokenizerJson(tokenizerJson);
    const vocabTxt = join(dir, 'vocab.txt');
    if (await exists(vocabTxt)) {
      return loadWordPieceVocabTxt(vocabTxt, await readBertTokenizerConfig(join(dir, 'tokenizer_config.json')));
    }
    throw new VocabularyError(vocabTxt, 'missing: a BERT checkpoint needs vocab.txt or tokenizer.json');
  }
  if (modelType === 'gpt2') {
    const vocabJson = join(dir, 'vocab.json');
    const merges = join(dir, 'merges.txt');
    if ((await exists(vocabJson)) || (await exists(merges))) return loadByteLevelBpe(vocabJson, merges);
    if (await exists(tokenizerJson)) return loadByteLevelBpeTokenizerJson(tokenizerJson);
    throw new VocabularyError(vocabJson, 'missing: a GPT2 checkpoint needs vocab.json + merges.txt or tokenizer.json');
  }
  if (modelType === 'llama') {
    if (!(await exists(tokenizerJson))) throw new VocabularyError(tokenizerJson, 'missing: a LLaMA checkpoint needs tokenizer.json');
    return loadLlamaTokenizerJson(tokenizerJson, await tokenizerConfigToken(join(dir, 'tokenizer_config.json'), 'eos_token'));
  }
  throw new VocabularyError(dir, `unknown model type ${JSON.stringify(modelType)}`);
}
