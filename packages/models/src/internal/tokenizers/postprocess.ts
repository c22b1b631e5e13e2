// Truncation, overflow windows and special-token templates, shared by WordPiece and byte-level BPE.
// The arithmetic is Hugging Face tokenizers' (`truncate_encodings` + `Encoding::truncate` +
// TemplateProcessing), so lengths, windows and type ids match a fast tokenizer exactly.

import type { Encoding, EncodeOptions, TokenSequence, TruncationStrategy } from '../../tokenizers/types.js';
import { TokenizationError } from '../../tokenizers/types.js';

/** Where special tokens go. `cls`/`sep` absent = no special tokens (GPT2). */
export interface SpecialTemplate {
  cls?: number;
  sep?: number;
}

/** Number of special tokens the template adds to a single sequence or a pair. */
export function addedTokenCount(template: SpecialTemplate, pair: boolean): number {
  if (template.cls === undefined || template.sep === undefined) return 0;
  return pair ? 3 : 2;
}

/**
 * Cuts a sequence into windows of `maxLen` tokens starting every `maxLen - stride` tokens; the
 * first window is what truncation keeps, the rest are HF's "overflowing" encodings.
 */
function windows(seq: TokenSequence, maxLen: number, stride: number): TokenSequence[] {
  const n = seq.ids.length;
  if (maxLen >= n) return [seq];
  if (maxLen === 0) return [{ ids: [], offsets: [] }, seq];
  if (stride >= maxLen) {
    throw new TokenizationError(
      `stride ${stride} must be smaller than the ${maxLen} tokens left for the truncated sequence (max length minus special tokens and the other sequence)`,
    );
  }
  const step = maxLen - stride;
  const out: TokenSequence[] = [];
  for (let start = 0; ; start += step) {
    const stop = Math.min(start + maxLen, n);
    out.push({ ids: seq.ids.slice(start, stop), offsets: seq.offsets.slice(start, stop) });
    if (stop === n) break;
  }
  return out;
}

/** Lengths after HF `longest_first`: the shorter keeps what it can, the longer gets the rest. */
function longestFirstLengths(n1: number, n2: number, maxLength: number): [number, number] {
  // HF tokenizers' closed form (equivalent to removing one token at a time from the longer one,
  // with the remainder of an odd budget going to the longer / second sequence).
  let a = n1;
  let b = n2;
  const swap = a > b;
  if (swap) [a, b] = [b, a];
  if (a > maxLength) b = a;
  else b = Math.max(a, maxLength - a);
  if (a + b > maxLength) {
    a = Math.floor(maxLength / 2);
    b = a + (maxLength % 2);
  }
  return swap ? [b, a] : [a, b];
}

function assemble(template: SpecialTemplate, first: TokenSequence, second: TokenSequence | undefined): Encoding {
  const ids: number[] = [];
  const typeIds: number[] = [];
  const offsets: Array<[number, number]> = [];
  const sequenceIds: Array<0 | 1 | null> = [];
  const special = template.cls !== undefined && template.sep !== undefined;
  const push = (id: number, typeId: number, offset: [number, number], seqId: 0 | 1 | null) => {
    ids.push(id);
    typeIds.push(typeId);
    offsets.push(offset);
    sequenceIds.push(seqId);
  };
  if (special) push(template.cls!, 0, [0, 0], null);
  for (let i = 0; i < first.ids.length; i++) push(first.ids[i]!, 0, first.offsets[i]!, 0);
  if (special) push(template.sep!, 0, [0, 0], null);
  if (second) {
    for (let i = 0; i < second.ids.length; i++) push(second.ids[i]!, 1, second.offsets[i]!, 1);
    if (special) push(template.sep!, 1, [0, 0], null);
  }
  return { ids, typeIds, attentionMask: ids.map(() => 1), offsets, sequenceIds };
}

/**
 * Truncates (with overflow windows) and adds special tokens. Returns the main encoding first,
 * then the overflowing ones. Without `maxLength` there is exactly one encoding.
 */
export function postProcess(
  template: SpecialTemplate,
  first: TokenSequence,
  second: TokenSequence | undefined,
  options: EncodeOptions & { stride?: number } = {},
): Encoding[] {
  const { maxLength } = options;
  if (maxLength === undefined) return [assemble(template, first, second)];
  if (!Number.isInteger(maxLength) || maxLength < 0) {
    throw new TokenizationError(`maxLength must be a non-negative integer, got ${maxLength}`);
  }
  const stride = options.stride ?? 0;
  if (!Number.isInteger(stride) || stride < 0) {
    throw new TokenizationError(`stride must be a non-negative integer, got ${stride}`);
  }
  const strategy: TruncationStrategy = options.truncation ?? 'longest_first';
  const added = addedTokenCount(template, second !== undefined);
  const budget = maxLength - added;
  if (budget < 0) {
    throw new TokenizationError(`maxLength ${maxLength} cannot even hold the ${added} special tokens`);
  }
  const n1 = first.ids.length;
  const n2 = second?.ids.length ?? 0;
  const total = n1 + n2;
  if (total <= budget) return [assemble(template, first, second)];
  const toRemove = total - budget;

  let firstWindows: TokenSequence[] = [first];
  let secondWindows: TokenSequence[] | undefined = second ? [second] : undefined;
  if (strategy === 'longest_first') {
    if (second) {
      const [l1, l2] = longestFirstLengths(n1, n2, budget);
      firstWindows = windows(first, l1, stride);
      secondWindows = windows(second, l2, stride);
    } else {
      firstWindows = windows(first, n1 - toRemove, stride);
    }
  } else if (strategy === 'only_first' || strategy === 'only_second') {
    const target = strategy === 'only_first' ? first : second;
    if (!target) {
      throw new TokenizationError(`truncation "only_second" needs a second sequence`);
    }
    if (target.ids.length <= toRemove) {
      throw new TokenizationError(
        `truncation "${strategy}": the ${strategy === 'only_first' ? 'first' : 'second'} sequence has ${target.ids.length} tokens, ` +
          `too few to remove the ${toRemove} needed for max length ${maxLength}`,
      );
    }
    const w = windows(target, target.ids.length - toRemove, stride);
    if (strategy === 'only_first') firstWindows = w;
    else secondWindows = w;
  } else {
    throw new TokenizationError(`unknown truncation strategy "${String(strategy)}"`);
  }

  // Pairing of windows as in HF TemplateProcessing: main = (A0, B0); then every later first window
  // Ai with B0, B1, ...; then A0 with every later second window Bj.
  const out: Encoding[] = [assemble(template, firstWindows[0]!, secondWindows?.[0])];
  if (secondWindows) {
    for (let i = 1; i < firstWindows.length; i++) {
      for (const s of secondWindows) out.push(assemble(template, firstWindows[i]!, s));
    }
    for (let j = 1; j < secondWindows.length; j++) out.push(assemble(template, firstWindows[0]!, secondWindows[j]));
  } else {
    for (let i = 1; i < firstWindows.length; i++) out.push(assemble(template, firstWindows[i]!, undefined));
  }
  return out;
}

/** `<bos> A` or `<bos> A <bos> B` from an encoding of A (and B) without special tokens. */
function withBos(e: Encoding, bos: number, pair: boolean): Encoding {
  const out: Encoding = { ids: [], typeIds: [], attentionMask: [], offsets: [], sequenceIds: [] };
  const push = (id: number, typeId: number, offset: [number, number], sequenceId: 0 | 1 | null) => {
    out.ids.push(id);
    out.typeIds.push(typeId);
    out.attentionMask.push(1);
    out.offsets.push(offset);
    out.sequenceIds.push(sequenceId);
  };
  push(bos, 0, [0, 0], null);
  const firstLength = e.sequenceIds.filter((s) => s === 0).length;
  for (let i = 0; i < e.ids.length; i++) {
    if (pair && i === firstLength) push(bos, 1, [0, 0], null);
    push(e.ids[i]!, e.typeIds[i]!, e.offsets[i]!, e.sequenceIds[i]!);
  }
  if (pair && firstLength === e.ids.length) push(bos, 1, [0, 0], null);
  return out;
}

/**
 * The decoders' post-processing: nothing added (GPT2; a pair is the two sequences back to back, type ids 0
 * then 1), or `<bos> A` (pair `<bos> A <bos> B`, LLaMA's TemplateProcessing) when `bos` is given. Truncation
 * works within maxLength less the added tokens, as HF TemplateProcessing counts them.
 */
export function postProcessDecoder(
  bos: number | undefined,
  first: TokenSequence,
  second: TokenSequence | undefined,
  options?: EncodeOptions & { stride?: number },
): Encoding[] {
  if (bos === undefined) return postProcess({}, first, second, options);
  const added = second === undefined ? 1 : 2;
  const maxLength = options?.maxLength;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < added))
    throw new TokenizationError(`maxLength ${maxLength} cannot even hold the ${added} special tokens`);
  const inner = maxLength === undefined ? options : { ...options, maxLength: maxLength - added };
  return postProcess({}, first, second, inner).map((e) => withBos(e, bos, second !== undefined));
}
