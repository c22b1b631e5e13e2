// The tokenizer.json components of SentencePiece-style BPE (Llama 2, TinyLlama, Mistral): the
// `Prepend` / `Replace` normalizers and the `Metaspace` pre-tokenizer, which turn spaces into "▁" and put
// one before the text, and the decoders that undo it (`Replace`, `ByteFallback`, `Fuse`, `Strip`,
// `Metaspace`). They run as the Rust `tokenizers` library runs them; text keeps, for every UTF-16 unit,
// the span of the original text it came from, so that token offsets point into the caller's string.

import { TokenizationError } from '../../tokenizers/types.js';
import { componentName, literalSplitStep, type Piece, splitPiece } from './pretokenize.js';

/** A string being normalized, with the original span `[start, end)` of each of its UTF-16 units. */
export class AlignedText {
  constructor(
    public text: string,
    public starts: number[],
    public ends: number[],
  ) {}

  /** `text` as found at UTF-16 position `offset` of the original: every unit spans its whole character. */
  static fromOriginal(text: string, offset: number): AlignedText {
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < text.length; ) {
      const width = text.codePointAt(i)! > 0xffff ? 2 : 1;
      for (let k = 0; k < width; k++) {
        starts.push(offset + i);
        ends.push(offset + i + width);
      }
      i += width;
    }
    return new AlignedText(text, starts, ends);
  }

  /** Puts `prefix` before a non-empty text; it is aligned with the first character (as `tokenizers` does). */
  prepend(prefix: string): void {
    if (this.text.length === 0) return;
    const start = this.starts[0]!;
    const end = this.ends[0]!;
    this.text = prefix + this.text;
    this.starts = [...Array.from(prefix, () => start), ...this.starts];
    this.ends = [...Array.from(prefix, () => end), ...this.ends];
  }

  /** Replaces every occurrence of `from` by `to`; the new units span what they replace. */
  replaceAll(from: string, to: string): void {
    if (!this.text.includes(from)) return;
    let text = '';
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < this.text.length; ) {
      if (this.text.startsWith(from, i)) {
        const start = this.starts[i]!;
        const end = this.ends[i + from.length - 1]!;
        text += to;
        for (let k = 0; k < to.length; k++) {
          starts.push(start);
          ends.push(end);
        }
        i += from.length;
      } else {
        text += this.text[i];
        starts.push(this.starts[i]!);
        ends.push(this.ends[i]!);
        i++;
      }
    }
    this.text = text;
    this.starts = starts;
    this.ends = ends;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringField(json: Record<string, unknown>, key: string, where: string): string {
  const v = json[key];
  if (typeof v !== 'string' || v.length === 0)
    throw new TokenizationError(`${where}: ${String(json.type)} needs a non-empty string "${key}"`);
  return v;
}

/** A normalizer step: a function that edits the aligned text. */
export type NormalizerStep = (text: AlignedText) => void;

/** The literal of a `Replace` component's pattern (`{"String": ...}`); Regex patterns are refused. */
function replacePattern(json: Record<string, unknown>, where: string): string {
  const pattern = json.pattern;
  if (isRecord(pattern) && typeof pattern.String === 'string' && pattern.String.length > 0) return pattern.String;
  throw new TokenizationError(`${where}: Replace pattern ${JSON.stringify(pattern)} is not supported (ziplm implements {"String": ...})`);
}

/**
 * The steps of a tokenizer.json `normalizer`: null, `Prepend`, `Replace` with a string pattern, or a
 * `Sequence` of these. @throws TokenizationError for anything else.
 */
export function normalizerSteps(json: unknown, where = 'normalizer'): NormalizerStep[] {
  if (json === null || json === undefined) return [];
  if (!isRecord(json)) throw new TokenizationError(`${where} must be an object or null`);
  switch (json.type) {
    case 'Sequence': {
      if (!Array.isArray(json.normalizers)) throw new TokenizationError(`${where}: Sequence needs a "normalizers" array`);
      return json.normalizers.flatMap((n, i) => normalizerSteps(n, `${where}.normalizers[${i}]`));
    }
    case 'Prepend': {
      const prefix = stringField(json, 'prepend', where);
      return [(text) => text.prepend(prefix)];
    }
    case 'Replace': {
      const from = replacePattern(json, where);
      const to = json.content;
      if (typeof to !== 'string') throw new TokenizationError(`${where}: Replace needs a string "content"`);
      return [(text) => text.replaceAll(from, to)];
    }
    default:
      throw new TokenizationError(
        `${where}: unsupported normalizer ${componentName(json)} (ziplm implements Prepend, Replace with a string pattern and Sequence)`,
      );
  }
}

/** Metaspace's settings: `prepend_scheme` (`add_prefix_space` in older files) and whether it splits words. */
export interface Metaspace {
  readonly replacement: string;
  readonly prependScheme: 'always' | 'first' | 'never';
  readonly split: boolean;
}

function metaspaceSettings(json: Record<string, unknown>, where: string): Metaspace {
  const replacement = stringField(json, 'replacement', where);
  if ([...replacement].length !== 1) throw new TokenizationError(`${where}: Metaspace replacement must be one character`);
  let prependScheme: Metaspace['prependScheme'];
  if (json.prepend_scheme !== undefined) {
    if (json.prepend_scheme !== 'always' && json.prepend_scheme !== 'first' && json.prepend_scheme !== 'never')
      throw new TokenizationError(`${where}: Metaspace prepend_scheme must be "always", "first" or "never"`);
    prependScheme = json.prepend_scheme;
  } else {
    // Files written before prepend_scheme existed say add_prefix_space (default true).
    prependScheme = json.add_prefix_space === false ? 'never' : 'always';
  }
  const split = json.split ?? true;
  if (typeof split !== 'boolean') throw new TokenizationError(`${where}: Metaspace split must be true or false`);
  return { replacement, prependScheme, split };
}

/**
 * A tokenizer.json `pre_tokenizer` of SentencePiece-style BPE: null (the whole normalized text is one word)
 * or `Metaspace`. @throws TokenizationError for anything else.
 */
export function metaspacePreTokenizer(json: unknown, where = 'pre_tokenizer'): Metaspace | undefined {
  if (json === null || json === undefined) return undefined;
  if (isRecord(json) && json.type === 'Metaspace') return metaspaceSettings(json, where);
  throw new TokenizationError(
    `${where}: unsupported pre_tokenizer ${componentName(json)} for SentencePiece-style BPE (ziplm implements null and Metaspace)`,
  );
}

/**
 * Runs Metaspace on one piece of normalized text: spaces become the replacement, which is put before the
 * text (always; or only before the text that starts the input, `first`; unless it already starts with it),
 * then the text is cut before each replacement when `split`.
 */
export function applyMetaspace(text: AlignedText, metaspace: Metaspace | undefined): Piece[] {
  if (metaspace === undefined) return text.text.length === 0 ? [] : [{ text: text.text, start: 0 }];
  const { replacement, prependScheme } = metaspace;
  text.replaceAll(' ', replacement);
  const startsInput = text.starts.length > 0 && text.starts[0] === 0;
  if (!text.text.startsWith(replacement) && (prependScheme === 'always' || (prependScheme === 'first' && startsInput)))
    text.prepend(replacement);
  if (text.text.length === 0) return [];
  const whole: Piece = { text: text.text, start: 0 };
  if (!metaspace.split) return [whole];
  const pieces: Piece[] = [];
  splitPiece(whole, literalSplitStep(replacement, 'MergedWithNext'), pieces);
  return pieces;
}

/** A decoder step: token strings in, token strings out (`tokenizers`' `decode_chain`). */
export type DecoderStep = (tokens: string[]) => string[];

/** `<0xAB>` byte tokens of byte_fallback. */
const BYTE_TOKEN = /^<0x([0-9A-Fa-f]{2})>$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** ByteFallback: runs of `<0xAB>` tokens become the text of their bytes, or one U+FFFD per byte when they are not valid UTF-8. */
function byteFallback(tokens: string[]): string[] {
  const out: string[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length === 0) return;
    try {
      out.push(utf8.decode(Uint8Array.from(bytes)));
    } catch {
      for (let k = 0; k < bytes.length; k++) out.push('\ufffd');
    }
    bytes = [];
  };
  for (const token of tokens) {
    const byte = BYTE_TOKEN.exec(token);
    if (byte) {
      bytes.push(Number.parseInt(byte[1]!, 16));
      continue;
    }
    flush();
    out.push(token);
  }
  flush();
  return out;
}

function strip(tokens: string[], content: string, start: number, stop: number): string[] {
  return tokens.map((token) => {
    let from = 0;
    let to = token.length;
    for (let k = 0; k < start && token.startsWith(content, from); k++) from += content.length;
    for (let k = 0; k < stop && to - content.length >= from && token.startsWith(content, to - content.length); k++) to -= content.length;
    return token.slice(from, to);
  });
}

function count(json: Record<string, unknown>, key: string, where: string): number {
  const v = json[key];
  if (!Number.isInteger(v) || (v as number) < 0) throw new TokenizationError(`${where}: Strip needs a non-negative integer "${key}"`);
  return v as number;
}

/**
 * The steps of a tokenizer.json `decoder` of SentencePiece-style BPE: `Replace` (string pattern),
 * `ByteFallback`, `Fuse`, `Strip`, `Metaspace`, or a `Sequence` of these. @throws TokenizationError for anything else.
 */
export function decoderSteps(json: unknown, where = 'decoder'): DecoderStep[] {
  if (json === null || json === undefined) return [];
  if (!isRecord(json)) throw new TokenizationError(`${where} must be an object or null`);
  switch (json.type) {
    case 'Sequence':
      if (!Array.isArray(json.decoders)) throw new TokenizationError(`${where}: Sequence needs a "decoders" array`);
      return json.decoders.flatMap((d, i) => decoderSteps(d, `${where}.decoders[${i}]`));
    case 'Replace': {
      const from = replacePattern(json, where);
      const to = json.content;
      if (typeof to !== 'string') throw new TokenizationError(`${where}: Replace needs a string "content"`);
      return [(tokens) => tokens.map((t) => t.replaceAll(from, to))];
    }
    case 'ByteFallback':
      return [byteFallback];
    case 'Fuse':
      return [(tokens) => [tokens.join('')]];
    case 'Strip': {
      const content = stringField(json, 'content', where);
      const start = count(json, 'start', where);
      const stop = count(json, 'stop', where);
      return [(tokens) => strip(tokens, content, start, stop)];
    }
    case 'Metaspace': {
      const { replacement, prependScheme } = metaspaceSettings(json, where);
      // Every replacement becomes a space; the one Metaspace put before the text goes again.
      return [
        (tokens) =>
          tokens.map((token, i) => {
            const spaced = token.replaceAll(replacement, ' ');
            return i === 0 && prependScheme !== 'never' && spaced.startsWith(' ') ? spaced.slice(1) : spaced;
          }),
      ];
    }
    default:
      throw new TokenizationError(
        `${where}: unsupported decoder ${componentName(json)} (ziplm implements Replace, ByteFallback, Fuse, Strip, Metaspace and Sequence)`,
      );
  }
}
