// The pre-tokenizers of a Hugging Face tokenizer.json that cut text into the words BPE runs on, as the Rust
// `tokenizers` library runs them: `Split` (a regex or string pattern, a delimiter behaviour, `invert`),
// `Digits`, ByteLevel's GPT2 regex, Metaspace's split on its replacement character, and `Sequence`s of these.
// Each step maps every piece to its sub-pieces; pieces keep their UTF-16 start in the text that was split.

import { TokenizationError } from '../../tokenizers/types.js';
import { onigurumaToJavaScript } from './oniguruma.js';

/** A piece of text and where it starts (UTF-16 units) in the string the pre-tokenizer was given. */
export interface Piece {
  readonly text: string;
  readonly start: number;
}

/** `tokenizers`' SplitDelimiterBehavior: what happens to each match of the pattern. */
export type SplitBehavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

const SPLIT_BEHAVIORS: ReadonlySet<string> = new Set<SplitBehavior>([
  'Removed',
  'Isolated',
  'MergedWithPrevious',
  'MergedWithNext',
  'Contiguous',
]);

/** One splitting step: the matches of `pattern` (global, `u`) become pieces as `behavior` says. */
export interface SplitStep {
  readonly pattern: RegExp;
  readonly behavior: SplitBehavior;
  /** Split on what does not match instead (the matches become the text between delimiters). */
  readonly invert: boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** A `Split` step from a pattern in JavaScript syntax. */
export function splitStep(source: string, behavior: SplitBehavior, invert = false): SplitStep {
  return { pattern: new RegExp(source, 'gu'), behavior, invert };
}

/** A step that splits on every occurrence of `literal`. */
export function literalSplitStep(literal: string, behavior: SplitBehavior): SplitStep {
  return splitStep(escapeRegExp(literal), behavior);
}

/**
 * Splits one piece as `tokenizers`' `NormalizedString::split` does: the text is cut into matches and the
 * gaps between them (empty matches make no piece), then `behavior` decides what to keep and what to join.
 */
export function splitPiece(piece: Piece, step: SplitStep, out: Piece[]): void {
  const { text, start } = piece;
  // [start, end, isMatch] in order, covering the text.
  const spans: Array<[number, number, boolean]> = [];
  let last = 0;
  const pattern = step.pattern;
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const end = m.index + m[0].length;
    if (m[0].length === 0) {
      // An empty match delimits nothing; step over one code point, as `matchAll` does with `u`.
      pattern.lastIndex = m.index + (text.codePointAt(m.index)! > 0xffff ? 2 : 1);
      continue;
    }
    if (m.index > last) spans.push([last, m.index, step.invert]);
    spans.push([m.index, end, !step.invert]);
    last = end;
  }
  if (last < text.length) spans.push([last, text.length, step.invert]);

  const merged: Array<[number, number]> = [];
  switch (step.behavior) {
    case 'Isolated':
      for (const [s, e] of spans) merged.push([s, e]);
      break;
    case 'Removed':
      for (const [s, e, isMatch] of spans) if (!isMatch) merged.push([s, e]);
      break;
    case 'MergedWithPrevious': {
      let previousMatch = false;
      for (const [s, e, isMatch] of spans) {
        const previous = merged[merged.length - 1];
        if (isMatch && !previousMatch && previous !== undefined) previous[1] = e;
        else merged.push([s, e]);
        previousMatch = isMatch;
      }
      break;
    }
    case 'MergedWithNext': {
      let previousMatch = false;
      for (let k = spans.length - 1; k >= 0; k--) {
        const [s, e, isMatch] = spans[k]!;
        const following = merged[merged.length - 1];
        if (isMatch && !previousMatch && following !== undefined) following[0] = s;
        else merged.push([s, e]);
        previousMatch = isMatch;
      }
      merged.reverse();
      break;
    }
    case 'Contiguous': {
      let previousMatch = false;
      for (const [s, e, isMatch] of spans) {
        const previous = merged[merged.length - 1];
        if (isMatch && previousMatch && previous !== undefined) previous[1] = e;
        else merged.push([s, e]);
        previousMatch = isMatch;
      }
      break;
    }
  }
  for (const [s, e] of merged) out.push({ text: text.slice(s, e), start: start + s });
}

/** Applies the steps in order to `text`, which starts at `start`. */
export function preTokenize(text: string, start: number, steps: readonly SplitStep[]): Piece[] {
  let pieces: Piece[] = text.length === 0 ? [] : [{ text, start }];
  for (const step of steps) {
    const next: Piece[] = [];
    for (const piece of pieces) splitPiece(piece, step, next);
    pieces = next;
  }
  return pieces;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The type of a tokenizer.json component, for messages. */
export function componentName(json: unknown): string {
  return isRecord(json) ? JSON.stringify(json.type) : JSON.stringify(json);
}

/**
 * A `Split` pre-tokenizer of tokenizer.json as a step. The Regex pattern is converted from Oniguruma
 * syntax (see oniguruma.ts); a String pattern is matched literally.
 * @throws TokenizationError for what it cannot reproduce exactly.
 */
export function splitStepFromJson(json: Record<string, unknown>, where: string): SplitStep {
  const { pattern, behavior, invert } = json;
  if (typeof behavior !== 'string' || !SPLIT_BEHAVIORS.has(behavior))
    throw new TokenizationError(`${where}: Split behavior ${JSON.stringify(behavior)} is not one of ${[...SPLIT_BEHAVIORS].join(', ')}`);
  if (invert !== undefined && typeof invert !== 'boolean') throw new TokenizationError(`${where}: Split invert must be true or false`);
  if (isRecord(pattern) && typeof pattern.Regex === 'string') {
    let source: string;
    try {
      source = onigurumaToJavaScript(pattern.Regex);
    } catch (error) {
      if (error instanceof TokenizationError)
        throw new TokenizationError(`${where}: Split pattern ${JSON.stringify(pattern.Regex)} is not supported: ${error.message}`, {
          cause: error,
        });
      throw error;
    }
    return splitStep(source, behavior as SplitBehavior, invert === true);
  }
  if (isRecord(pattern) && typeof pattern.String === 'string' && pattern.String.length > 0)
    return splitStep(escapeRegExp(pattern.String), behavior as SplitBehavior, invert === true);
  throw new TokenizationError(`${where}: Split pattern must be {"Regex": ...} or {"String": ...}`);
}

/** `Digits`: runs of numeric characters (Rust's `char::is_numeric`, Unicode N*) split off, one piece per digit when `individual_digits`. */
export function digitsStep(json: Record<string, unknown>, where: string): SplitStep {
  const individual = json.individual_digits ?? false;
  if (typeof individual !== 'boolean') throw new TokenizationError(`${where}: Digits individual_digits must be true or false`);
  return individual ? splitStep('\\p{N}', 'Isolated') : splitStep('\\p{N}', 'Contiguous');
}
