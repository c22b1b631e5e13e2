// The BERT "basic tokenizer": Hugging Face tokenizers' BertNormalizer followed by BertPreTokenizer,
// done in one pass that remembers, for every normalized character, the span of the ORIGINAL
// character it came from (SQuAD maps answers back to the context through these spans).
//
// Order of the normalizer steps is the one of tokenizers' BertNormalizer::normalize:
//   1. clean_text: drop U+0000, U+FFFD and control characters (categories Cc Cf Co Cs, except \t \n \r),
//      turn every White_Space character into ' '.
//   2. handle_chinese_chars: put spaces around CJK ideographs (here: emit each as its own word).
//   3. strip_accents (defaults to `lowercase` when unset): NFD, then drop non-spacing marks (Mn).
//   4. lowercase: per character (Rust's char::to_lowercase, so no context-dependent final sigma).
// BertPreTokenizer then splits on White_Space (dropping it) and isolates every punctuation character,
// where punctuation is BERT's definition: ASCII 33–47, 58–64, 91–96, 123–126 (this includes symbols
// such as $ + < = > ^ ` | ~) or any Unicode P* character. Other symbols (€, ©, emoji) stay in words.

/** Settings of HF's BertNormalizer (field names as in tokenizer.json, camel-cased). */
export interface BertNormalizerOptions {
  /** Remove control characters and map whitespace to spaces. Default true. */
  cleanText?: boolean;
  /** Split CJK ideographs into single-character words. Default true. */
  handleChineseChars?: boolean;
  /** NFD + remove non-spacing marks. Default: same as `lowercase` (HF's `strip_accents: null`). */
  stripAccents?: boolean;
  /** Lower-case. Default true (uncased BERT). */
  lowercase?: boolean;
}

/** One pre-tokenized word: its normalized characters (code points) and their original spans. */
export interface BasicWord {
  chars: string[];
  /** UTF-16 start of the original character each normalized character came from. */
  starts: number[];
  /** UTF-16 end (exclusive) of that original character. */
  ends: number[];
}

const WHITE_SPACE = /^\p{White_Space}$/u;
// Cc, Cf, Co, Cs but not Cn: HF tokenizers' `is_other` (unicode_categories crate) leaves unassigned
// code points alone, where Python's `category(c).startswith('C')` would drop them.
const OTHER = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const PUNCT = /^\p{P}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;

// ASCII classes precomputed: 0 = other, 1 = whitespace, 2 = control, 3 = punctuation, 4 = both
// whitespace and control (\v \f: White_Space but also Cc, so clean_text drops them; without
// clean_text the pre-tokenizer still splits on them).
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if (c === 9 || c === 10 || c === 13 || c === 32) ASCII_CLASS[c] = 1;
  else if (c === 11 || c === 12) ASCII_CLASS[c] = 4;
  else if (c < 32 || c === 127) ASCII_CLASS[c] = 2;
  else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) ASCII_CLASS[c] = 3;
}

/** White_Space property (Rust `char::is_whitespace`), which includes \t \n \r. */
export function isBertWhitespace(cp: number): boolean {
  if (cp < 128) return ASCII_CLASS[cp] === 1 || ASCII_CLASS[cp] === 4;
  return WHITE_SPACE.test(String.fromCodePoint(cp));
}

/**
 * Control characters in BERT's sense: categories Cc, Cf, Co, Cs, except \t \n \r (whitespace).
 * Checked before whitespace, so \v, \f and U+0085 are dropped rather than turned into spaces.
 */
export function isBertControl(cp: number): boolean {
  if (cp < 128) return ASCII_CLASS[cp] === 2 || ASCII_CLASS[cp] === 4;
  return OTHER.test(String.fromCodePoint(cp));
}

/** BERT punctuation: all ASCII non-alphanumeric printable characters, plus Unicode P*. */
export function isBertPunctuation(cp: number): boolean {
  if (cp < 128) return ASCII_CLASS[cp] === 3;
  return PUNCT.test(String.fromCodePoint(cp));
}

/**
 * CJK Unified Ideographs blocks as listed by BERT (Hangul, kana etc. are not included on purpose).
 * Extension E starts at 0x2B920 here as in HF tokenizers' Rust BertNormalizer (Google's and the slow
 * Python BertTokenizer use 0x2B820); tokenizer.json files are defined by the Rust library.
 */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Resolved normalizer settings. */
export interface ResolvedBertNormalizer {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

export function resolveBertNormalizer(options: BertNormalizerOptions = {}): ResolvedBertNormalizer {
  const lowercase = options.lowercase ?? true;
  return {
    cleanText: options.cleanText ?? true,
    handleChineseChars: options.handleChineseChars ?? true,
    stripAccents: options.stripAccents ?? lowercase,
    lowercase,
  };
}

/**
 * Normalizes one original character (steps 3 and 4) into zero or more characters. Cached per code
 * point: the same few hundred characters recur in any corpus.
 */
function makeCharNormalizer(opts: ResolvedBertNormalizer): (ch: string) => string[] {
  const cache = new Map<string, string[]>();
  return (ch: string) => {
    let out = cache.get(ch);
    if (out === undefined) {
      let s = ch;
      if (opts.stripAccents) s = s.normalize('NFD').replace(NONSPACING_MARK, '');
      if (opts.lowercase) {
        let lowered = '';
        for (const c of s) lowered += c.toLowerCase();
        s = lowered;
      }
      out = Array.from(s);
      if (cache.size < 65536) cache.set(ch, out);
    }
    return out;
  };
}

/**
 * Returns a function that runs BertNormalizer + BertPreTokenizer on `text` and appends the words to
 * `out`. `base` is added to every span (for text segments cut out of a larger string).
 */
export function makeBertBasicTokenizer(options: BertNormalizerOptions = {}): (text: string, out: BasicWord[], base?: number) => void {
  const opts = resolveBertNormalizer(options);
  const normalizeChar = makeCharNormalizer(opts);
  return (text: string, out: BasicWord[], base = 0) => {
    let word: BasicWord | null = null;
    const flush = () => {
      if (word !== null) {
        out.push(word);
        word = null;
      }
    };
    const emitSingle = (c: string, start: number, end: number) => {
      flush();
      out.push({ chars: [c], starts: [start], ends: [end] });
    };
    let i = 0;
    const n = text.length;
    while (i < n) {
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      const start = base + i;
      const end = start + len;
      i += len;
      if (opts.cleanText) {
        if (cp === 0 || cp === 0xfffd || isBertControl(cp)) continue;
      }
      if (isBertWhitespace(cp)) {
        flush();
        continue;
      }
      // ASCII fast path: only lower-casing can change it.
      if (cp < 128) {
        if (ASCII_CLASS[cp] === 3) {
          emitSingle(String.fromCharCode(cp), start, end);
          continue;
        }
        const c = opts.lowercase && cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : String.fromCharCode(cp);
        if (word === null) word = { chars: [], starts: [], ends: [] };
        const w: BasicWord = word;
        w.chars.push(c);
        w.starts.push(start);
        w.ends.push(end);
        continue;
      }
      const normalized = normalizeChar(String.fromCodePoint(cp));
      if (opts.handleChineseChars && isChineseChar(cp)) {
        // The whole output of a CJK character is one word (HF pads the character with spaces
        // before NFD, so compatibility ideographs that decompose stay together).
        flush();
        if (normalized.length > 0) {
          out.push({ chars: normalized, starts: normalized.map(() => start), ends: normalized.map(() => end) });
        }
        continue;
      }
      for (const c of normalized) {
        const ncp = c.codePointAt(0)!;
        if (isBertWhitespace(ncp)) {
          flush();
        } else if (isBertPunctuation(ncp)) {
          emitSingle(c, start, end);
        } else {
          if (word === null) word = { chars: [], starts: [], ends: [] };
          const w: BasicWord = word;
          w.chars.push(c);
          w.starts.push(start);
          w.ends.push(end);
        }
      }
    }
    flush();
  };
}
