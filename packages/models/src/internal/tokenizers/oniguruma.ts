// Hugging Face `tokenizers` compiles a tokenizer.json `Split` regex with Oniguruma; JavaScript's RegExp
// differs in a few places that decide token boundaries. This converts the subset of Oniguruma syntax
// that pre-tokenizer patterns use (GPT2, GPT-4 / Llama 3, Qwen, DeepSeek style) into a JavaScript pattern
// that matches the same strings, and refuses everything else rather than guess:
// - `(?i:...)` (Llama 3's contractions; no inline flags in Node 20's RegExp) becomes `(?:...)` with every
//   ASCII letter spelled out as the class of the characters Unicode simple case folding makes equal to it
//   (`s` → `[sSſ]`, `k` → `[kKK]`, as Oniguruma matches them). Letters outside ASCII, letter ranges, and
//   letter pairs that a multi-character folding can match (`ss` ← `ß`, `st`, `ff`, `fi`, `fl`) are refused.
// - `\s` / `\S` are Unicode White_Space (JavaScript's `\s` adds U+FEFF and lacks U+0085), `\d` / `\D`
//   Unicode decimal digits (`\p{Nd}`), `.` anything but `\n` (JavaScript's also stops at \r, U+2028/9).
// - `\p{..}` properties and ranges need the `u` flag, which also makes a stray `]` or `}` an error:
//   those become escaped literals, as Oniguruma reads them.

import { TokenizationError } from '../../tokenizers/types.js';

/** A pattern that cannot be converted (a TokenizationError, which the loaders turn into a VocabularyError naming the file). */
function unsupported(problem: string): TokenizationError {
  return new TokenizationError(`regex: ${problem}`);
}

/** Characters that must be escaped to stand for themselves in a `u`-flag pattern. */
const SYNTAX_CHARACTERS = new Set('^$\\.*+?()[]{}|/');

/** Extra characters Unicode simple case folding equates with an ASCII letter (CaseFolding.txt, status C/S). */
const EXTRA_FOLDS: Readonly<Record<string, string>> = { s: '\u017f', k: '\u212a' };

/** ASCII letter pairs that a single character matches under multi-character case folding (ß, ẞ → ss; ﬅ, ﬆ → st; ﬀ; ﬁ; ﬂ; ﬃ; ﬄ). */
const MULTI_CHARACTER_FOLDS = new Set(['ss', 'st', 'ff', 'fi', 'fl']);

const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c);
const isCased = (c: string): boolean => c.toLowerCase() !== c.toUpperCase();

/** The characters case-insensitive matching accepts for the ASCII letter `c`, without brackets. */
function foldedLetters(c: string): string {
  const lower = c.toLowerCase();
  return `${lower}${lower.toUpperCase()}${EXTRA_FOLDS[lower] ?? ''}`;
}

function literal(c: string): string {
  return SYNTAX_CHARACTERS.has(c) ? `\\${c}` : c;
}

/** Inside a character class, `-` must be escaped too. */
function classLiteral(c: string): string {
  return SYNTAX_CHARACTERS.has(c) || c === '-' ? `\\${c}` : c;
}

interface Escape {
  /** The JavaScript text (for use inside or outside a class). */
  readonly js: string;
  /** The character itself when the escape stands for one literal character (can start or end a range). */
  readonly char?: string;
  readonly end: number;
}

const CONTROL_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', f: '\f', v: '\v' };

/** Reads the escape that starts at `pattern[i] === '\\'`. */
function readEscape(pattern: string, i: number, inClass: boolean): Escape {
  const next = pattern[i + 1];
  if (next === undefined) throw unsupported('the pattern ends with a lone backslash');
  if (next === 'p' || next === 'P') {
    const close = pattern.indexOf('}', i);
    if (pattern[i + 2] !== '{' || close < 0) throw unsupported(`\\${next} without {property} at position ${i}`);
    const name = pattern.slice(i + 3, close);
    if (name.startsWith('^')) throw unsupported(`negated property \\${next}{${name}} at position ${i}`);
    const js = `\\${next}{${name}}`;
    try {
      new RegExp(js, 'u');
    } catch {
      throw unsupported(`Unicode property ${js} at position ${i} is not one JavaScript knows`);
    }
    return { js, end: close + 1 };
  }
  if (next === 's') return { js: '\\p{White_Space}', end: i + 2 };
  if (next === 'S') return { js: '\\P{White_Space}', end: i + 2 };
  if (next === 'd') return { js: '\\p{Nd}', end: i + 2 };
  if (next === 'D') return { js: '\\P{Nd}', end: i + 2 };
  const control = CONTROL_ESCAPES[next];
  if (control !== undefined) return { js: `\\${next}`, char: control, end: i + 2 };
  if (next === 'u' && /^[0-9A-Fa-f]{4}$/.test(pattern.slice(i + 2, i + 6))) {
    const char = String.fromCharCode(Number.parseInt(pattern.slice(i + 2, i + 6), 16));
    return { js: `\\u${pattern.slice(i + 2, i + 6)}`, char, end: i + 6 };
  }
  if (/[0-9A-Za-z]/.test(next)) {
    throw unsupported(`escape \\${next} at position ${i} (ziplm converts \\s \\S \\d \\D \\p{..} \\P{..} \\r \\n \\t \\f \\v \\uXXXX)`);
  }
  const char = String.fromCodePoint(pattern.codePointAt(i + 1)!);
  return { js: inClass ? classLiteral(char) : literal(char), char, end: i + 1 + char.length };
}

/** Converts a character class starting at `pattern[start] === '['`; returns its JavaScript text and the index after `]`. */
function readClass(pattern: string, start: number, caseInsensitive: boolean): { js: string; end: number } {
  let i = start + 1;
  let js = '[';
  if (pattern[i] === '^') {
    js += '^';
    i++;
  }
  let first = true;
  let previousChar: string | undefined;
  for (;;) {
    const c = pattern[i];
    if (c === undefined) throw unsupported(`unterminated character class at position ${start}`);
    if (c === ']' && !first) return { js: `${js}]`, end: i + 1 };
    first = false;
    if (c === '[') throw unsupported(`nested character class or POSIX bracket at position ${i}`);
    if (c === '&' && pattern[i + 1] === '&') throw unsupported(`class intersection && at position ${i}`);
    if (c === '-' && previousChar !== undefined && pattern[i + 1] !== ']' && pattern[i + 1] !== undefined) {
      // A range previousChar-X.
      const to = pattern[i + 1] === '\\' ? readEscape(pattern, i + 1, true) : undefined;
      const toChar = to ? to.char : String.fromCodePoint(pattern.codePointAt(i + 1)!);
      if (toChar === undefined) throw unsupported(`range ending in a class escape at position ${i}`);
      if (caseInsensitive && (isCased(previousChar) || isCased(toChar))) throw unsupported(`letter range inside (?i:...) at position ${i}`);
      js += `-${classLiteral(toChar)}`;
      i = to ? to.end : i + 1 + toChar.length;
      previousChar = undefined;
      continue;
    }
    if (c === '\\') {
      const escaped = readEscape(pattern, i, true);
      if (caseInsensitive && escaped.char !== undefined && isCased(escaped.char))
        throw unsupported(`escaped letter inside (?i:...) at position ${i}`);
      js += escaped.js;
      previousChar = escaped.char;
      i = escaped.end;
      continue;
    }
    const char = String.fromCodePoint(pattern.codePointAt(i)!);
    if (caseInsensitive && isCased(char)) {
      if (!isAsciiLetter(char)) throw unsupported(`non-ASCII letter "${char}" inside (?i:...) at position ${i}`);
      js += foldedLetters(char);
    } else {
      js += classLiteral(char);
    }
    previousChar = char;
    i += char.length;
  }
}

/**
 * The JavaScript source (for flags `gu`) that matches what Oniguruma matches with `pattern`.
 * @throws TokenizationError naming the construct that has no exact JavaScript equivalent here.
 */
export function onigurumaToJavaScript(pattern: string): string {
  let out = '';
  // One entry per open group: whether it is case-insensitive.
  const groups: boolean[] = [];
  const caseInsensitive = () => groups.length > 0 && groups[groups.length - 1]!;
  // The last literal letter of a case-insensitive run, to spot multi-character folds.
  let previousFoldedLetter: string | undefined;
  // Whether the last token can take a quantifier.
  let quantifiable = false;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    let letter: string | undefined;
    if (c === '\\') {
      const escaped = readEscape(pattern, i, false);
      if (caseInsensitive() && escaped.char !== undefined && isCased(escaped.char))
        throw unsupported(`escaped letter inside (?i:...) at position ${i}`);
      out += escaped.js;
      i = escaped.end;
      quantifiable = true;
    } else if (c === '[') {
      const cls = readClass(pattern, i, caseInsensitive());
      out += cls.js;
      i = cls.end;
      quantifiable = true;
    } else if (c === '(') {
      const rest = pattern.slice(i);
      const prefix = /^\(\?(?:i:|:|=|!|<=|<!)/.exec(rest)?.[0];
      if (prefix === undefined && rest.startsWith('(?'))
        throw unsupported(`group ${JSON.stringify(rest.slice(0, 4))} at position ${i} (ziplm converts (, (?:, (?i:, (?=, (?!, (?<=, (?<!)`);
      const inherited = caseInsensitive();
      groups.push(prefix === '(?i:' || inherited);
      // Plain groups become non-capturing: capturing changes nothing about what matches.
      out += prefix === undefined || prefix === '(?i:' ? '(?:' : prefix;
      i += prefix?.length ?? 1;
      quantifiable = false;
    } else if (c === ')') {
      if (groups.pop() === undefined) throw unsupported(`unbalanced ")" at position ${i}`);
      out += ')';
      i++;
      quantifiable = true;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d*,?\d*\}/.test(pattern.slice(i)) && pattern[i + 1] !== '}')) {
      if (!quantifiable) {
        if (c === '{') {
          out += '\\{';
          i++;
          quantifiable = true;
          continue;
        }
        throw unsupported(`quantifier "${c}" with nothing to repeat at position ${i}`);
      }
      let quantifier = c;
      if (c === '{') {
        const body = /^\{(\d*,?\d*)\}/.exec(pattern.slice(i))![1]!;
        // Oniguruma reads {,n} as {0,n}; JavaScript has no such form.
        quantifier = `{${body.startsWith(',') ? `0${body}` : body}}`;
        i += body.length + 2;
      } else {
        i++;
      }
      if (pattern[i] === '+') throw unsupported(`possessive quantifier at position ${i - 1}`);
      if (pattern[i] === '?') {
        quantifier += '?';
        i++;
      }
      out += quantifier;
      quantifiable = false;
    } else if (c === '|') {
      out += '|';
      i++;
      quantifiable = false;
    } else if (c === '.') {
      out += '[^\\n]';
      i++;
      quantifiable = true;
    } else if (c === '^' || c === '$') {
      throw unsupported(`anchor "${c}" at position ${i}`);
    } else {
      const char = String.fromCodePoint(pattern.codePointAt(i)!);
      if (caseInsensitive() && isCased(char)) {
        if (!isAsciiLetter(char)) throw unsupported(`non-ASCII letter "${char}" inside (?i:...) at position ${i}`);
        const pair = `${previousFoldedLetter ?? ''}${char}`.toLowerCase();
        if (MULTI_CHARACTER_FOLDS.has(pair))
          throw unsupported(`"${pair}" inside (?i:...) at position ${i - 1}: one character matches it under multi-character case folding`);
        out += `[${foldedLetters(char)}]`;
        letter = char;
      } else {
        out += c === ']' || c === '}' ? `\\${c}` : literal(char);
      }
      i += char.length;
      quantifiable = true;
    }
    previousFoldedLetter = letter;
  }
  if (groups.length > 0) throw unsupported('unbalanced "(": a group is not closed');
  try {
    new RegExp(out, 'gu');
  } catch (error) {
    throw unsupported(`the converted pattern does not compile: ${(error as Error).message}`);
  }
  return out;
}
