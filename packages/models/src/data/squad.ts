// SQuAD v1.1: the official JSON, the usual feature preparation of Hugging Face's run_qa.py
// (question first, context second truncated `only_second` into overlapping windows, offsets mapped
// back to the context), the post-processing from start/end logits to answer text, and the official
// v1.1 evaluation (exact match and token F1 after answer normalization).

import { DataError } from '../errors.js';
import type { TokenSequence, Tokenizer } from '../tokenizers/types.js';
import { parseJsonWithLocation } from '../internal/json.js';
import { readDataJsonText } from './paths.js';

export interface SquadAnswer {
  text: string;
  /** UTF-16 position of the answer in the context (the JSON counts code points; converted here). */
  start: number;
}

export interface SquadExample {
  id: string;
  title: string;
  context: string;
  question: string;
  /** Gold answers (dev sets have several; the first is the training target). */
  answers: SquadAnswer[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON.parse; errors name the file, line and column. */
function parseJsonFile(text: string, file: string): unknown {
  return parseJsonWithLocation(text, (message) => {
    throw new DataError(file, message);
  });
}

/** Maps code-point indices of `text` to UTF-16 indices (identity when `text` has no astral characters). */
function codePointToUtf16(text: string): ((cp: number) => number) | null {
  if (!/[\ud800-\udfff]/.test(text)) return null;
  const map: number[] = [];
  let u = 0;
  for (const ch of text) {
    map.push(u);
    u += ch.length;
  }
  map.push(u);
  return (cp) => map[cp] ?? -1;
}

export interface ReadSquadOptions {
  /** Fail when an answer's text differs from the context at its start. Default true. */
  strict?: boolean;
}

/** Parses SQuAD v1.1 JSON text (`file` names it in errors). */
export function parseSquad(text: string, file: string, options: ReadSquadOptions = {}): SquadExample[] {
  const strict = options.strict ?? true;
  if (text.trim().length === 0) throw new DataError(file, 'empty file');
  const json = parseJsonFile(text, file);
  if (!isRecord(json) || !Array.isArray(json.data)) throw new DataError(file, 'expected an object with a "data" array');
  const out: SquadExample[] = [];
  const fail = (path: string, problem: string): never => {
    throw new DataError(file, `${path}: ${problem}`);
  };
  json.data.forEach((article, a) => {
    const ap = `data[${a}]`;
    if (!isRecord(article)) fail(ap, 'expected an object');
    const art = article as Record<string, unknown>;
    const title = typeof art.title === 'string' ? art.title : '';
    if (!Array.isArray(art.paragraphs)) fail(`${ap}.paragraphs`, 'expected an array');
    (art.paragraphs as unknown[]).forEach((paragraph, p) => {
      const pp = `${ap}.paragraphs[${p}]`;
      if (!isRecord(paragraph)) fail(pp, 'expected an object');
      const par = paragraph as Record<string, unknown>;
      if (typeof par.context !== 'string') fail(`${pp}.context`, 'expected a string');
      const context = par.context as string;
      const toUtf16 = codePointToUtf16(context);
      if (!Array.isArray(par.qas)) fail(`${pp}.qas`, 'expected an array');
      (par.qas as unknown[]).forEach((qa, q) => {
        const qp = `${pp}.qas[${q}]`;
        if (!isRecord(qa)) fail(qp, 'expected an object');
        const r = qa as Record<string, unknown>;
        if (typeof r.id !== 'string' || r.id.length === 0) fail(`${qp}.id`, 'expected a non-empty string');
        if (typeof r.question !== 'string') fail(`${qp}.question`, 'expected a string');
        if (!Array.isArray(r.answers)) fail(`${qp}.answers`, 'expected an array');
        const answers = (r.answers as unknown[]).map((ans, k) => {
          const kp = `${qp}.answers[${k}]`;
          if (!isRecord(ans) || typeof ans.text !== 'string') fail(`${kp}.text`, 'expected a string');
          const an = ans as Record<string, unknown>;
          const cp = an.answer_start;
          if (!Number.isInteger(cp) || (cp as number) < 0) fail(`${kp}.answer_start`, 'expected a non-negative integer');
          const start = toUtf16 ? toUtf16(cp as number) : (cp as number);
          const answerText = an.text as string;
          if (start < 0 || start + answerText.length > context.length) {
            fail(
              `${kp}.answer_start`,
              `${cp} + answer length ${answerText.length} lies outside the context (${context.length} characters)`,
            );
          }
          if (strict && context.slice(start, start + answerText.length) !== answerText) {
            fail(
              kp,
              `answer ${JSON.stringify(answerText)} does not match the context at ${cp} (${JSON.stringify(context.slice(start, start + answerText.length))})`,
            );
          }
          return { text: answerText, start };
        });
        out.push({ id: r.id as string, title, context, question: r.question as string, answers });
      });
    });
  });
  if (out.length === 0) throw new DataError(file, 'no questions');
  return out;
}

/** Reads a SQuAD v1.1 JSON file. */
export function readSquad(file: string, options?: ReadSquadOptions): SquadExample[] {
  return parseSquad(readDataJsonText(file), file, options);
}

/** One model input window of one example. */
export interface SquadFeature {
  exampleIndex: number;
  exampleId: string;
  inputIds: number[];
  typeIds: number[];
  attentionMask: number[];
  /**
   * Span `[start, end)` in the context of each token, null for question and special tokens
   * (run_qa's validation features), so only context tokens can be predicted.
   */
  offsets: Array<[number, number] | null>;
  /** Training targets: token indices of the first answer, or `clsIndex` for both when it is not in this window. */
  startPosition: number;
  endPosition: number;
  /** Index of the [CLS] token (the "no answer here" target). */
  clsIndex: number;
}

export interface SquadFeatureOptions {
  /** Default 384. */
  maxLength?: number;
  /** Tokens shared by consecutive context windows (run_qa's doc_stride). Default 128. */
  docStride?: number;
}

/**
 * Tokenizes examples into features as run_qa.py's prepare_train_features / prepare_validation_features:
 * the question (leading whitespace stripped) then the context, truncated `only_second` into windows
 * of `maxLength` tokens overlapping by `docStride`; features are not padded (see `padBatch`).
 */
export function prepareSquadFeatures(
  examples: readonly SquadExample[],
  tokenizer: Tokenizer,
  options: SquadFeatureOptions = {},
): SquadFeature[] {
  const maxLength = options.maxLength ?? 384;
  const stride = options.docStride ?? 128;
  const features: SquadFeature[] = [];
  // Consecutive questions share a context: tokenize it once.
  let lastContext: string | null = null;
  let contextTokens: TokenSequence = { ids: [], offsets: [] };
  examples.forEach((example, exampleIndex) => {
    if (example.context !== lastContext) {
      lastContext = example.context;
      contextTokens = tokenizer.tokenize(example.context);
    }
    const question = tokenizer.tokenize(example.question.trimStart());
    const encodings = tokenizer.postProcess(question, contextTokens, { maxLength, truncation: 'only_second', stride });
    for (const enc of encodings) {
      const seq = enc.sequenceIds;
      const clsIndex = 0;
      let startPosition = clsIndex;
      let endPosition = clsIndex;
      const answer = example.answers[0];
      if (answer !== undefined) {
        const startChar = answer.start;
        const endChar = answer.start + answer.text.length;
        let tokenStart = 0;
        while (tokenStart < seq.length && seq[tokenStart] !== 1) tokenStart++;
        let tokenEnd = seq.length - 1;
        while (tokenEnd >= 0 && seq[tokenEnd] !== 1) tokenEnd--;
        if (tokenStart <= tokenEnd && enc.offsets[tokenStart]![0] <= startChar && enc.offsets[tokenEnd]![1] >= endChar) {
          // Move inwards to the tokens that hold the answer's first and last characters.
          while (tokenStart < seq.length && seq[tokenStart] === 1 && enc.offsets[tokenStart]![0] <= startChar) tokenStart++;
          startPosition = tokenStart - 1;
          while (tokenEnd >= 0 && seq[tokenEnd] === 1 && enc.offsets[tokenEnd]![1] >= endChar) tokenEnd--;
          endPosition = tokenEnd + 1;
        }
      }
      features.push({
        exampleIndex,
        exampleId: example.id,
        inputIds: enc.ids,
        typeIds: enc.typeIds,
        attentionMask: enc.attentionMask,
        offsets: enc.offsets.map((o, i) => (seq[i] === 1 ? o : null)),
        startPosition,
        endPosition,
        clsIndex,
      });
    }
  });
  return features;
}

export interface SquadPostprocessOptions {
  /** Candidates per feature for start and end. Default 20. */
  nBest?: number;
  /** Longest answer in tokens. Default 30. */
  maxAnswerLength?: number;
}

export interface SquadPrediction {
  id: string;
  /** Best answer text ('' when no valid span exists). */
  text: string;
  /** start logit + end logit of the chosen span (-Infinity when none). */
  score: number;
}

function topIndices(values: ArrayLike<number>, limit: number, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < limit; i++) idx.push(i);
  idx.sort((a, b) => values[b]! - values[a]! || a - b);
  return idx.slice(0, k);
}

/**
 * run_qa.py's postprocess_qa_predictions for SQuAD v1.1: for every example, the highest
 * start+end logit over the n-best starts × n-best ends of each of its features, keeping spans that
 * lie in the context, end >= start, and are at most `maxAnswerLength` tokens. Logit rows may be
 * longer than the features (padding); positions past a feature's tokens are ignored.
 */
export function postprocessSquad(
  examples: readonly SquadExample[],
  features: readonly SquadFeature[],
  startLogits: ReadonlyArray<ArrayLike<number>>,
  endLogits: ReadonlyArray<ArrayLike<number>>,
  options: SquadPostprocessOptions = {},
): SquadPrediction[] {
  const nBest = options.nBest ?? 20;
  const maxAnswerLength = options.maxAnswerLength ?? 30;
  if (startLogits.length !== features.length || endLogits.length !== features.length) {
    throw new RangeError(
      `postprocessSquad: ${features.length} features but ${startLogits.length} start and ${endLogits.length} end logit rows`,
    );
  }
  const best = examples.map(() => ({ score: -Infinity, start: 0, end: 0 }));
  features.forEach((feature, f) => {
    const s = startLogits[f]!;
    const e = endLogits[f]!;
    const n = feature.offsets.length;
    if (s.length < n || e.length < n) {
      throw new RangeError(`postprocessSquad: feature ${f} has ${n} tokens but ${s.length} start / ${e.length} end logits`);
    }
    const starts = topIndices(s, n, nBest);
    const ends = topIndices(e, n, nBest);
    const slot = best[feature.exampleIndex];
    if (slot === undefined)
      throw new RangeError(`postprocessSquad: feature ${f} refers to example ${feature.exampleIndex}, which does not exist`);
    for (const i of starts) {
      const oi = feature.offsets[i];
      if (!oi) continue;
      for (const j of ends) {
        const oj = feature.offsets[j];
        if (!oj || j < i || j - i + 1 > maxAnswerLength) continue;
        const score = s[i]! + e[j]!;
        if (score > slot.score) {
          slot.score = score;
          slot.start = oi[0];
          slot.end = oj[1];
        }
      }
    }
  });
  return examples.map((ex, k) => {
    const b = best[k]!;
    return { id: ex.id, text: b.score === -Infinity ? '' : ex.context.slice(b.start, b.end), score: b.score };
  });
}

// ---- Official SQuAD v1.1 evaluation (evaluate-v1.1.py) ----

// Python's str.split() whitespace (str.isspace): differs from JS \s by \x1c-\x1f and \x85 (in) and
// U+FEFF (out).
// biome-ignore lint/suspicious/noControlCharactersInRegex: \x1c-\x1f and \x85 are whitespace to Python's str.split(), which the official SQuAD script uses
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
// string.punctuation (ASCII only, as in the official script).
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
// \b(a|an|the)\b with Python's Unicode word characters (letters, digits, underscore).
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/** The official normalization: lower-case, drop ASCII punctuation, drop a/an/the, collapse whitespace. */
export function normalizeAnswer(s: string): string {
  let text = s.toLowerCase();
  let noPunct = '';
  for (const ch of text) if (!PUNCTUATION.has(ch)) noPunct += ch;
  text = noPunct.replace(ARTICLES, ' ');
  return text
    .split(PY_WHITESPACE)
    .filter((t) => t.length > 0)
    .join(' ');
}

function answerTokens(s: string): string[] {
  const n = normalizeAnswer(s);
  return n.length === 0 ? [] : n.split(' ');
}

/** Exact match (0 or 1) after normalization. */
export function exactMatchScore(prediction: string, groundTruth: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(groundTruth) ? 1 : 0;
}

/** Token-level F1 between normalized answers (bag of tokens, counted with multiplicity). */
export function f1Score(prediction: string, groundTruth: string): number {
  const p = answerTokens(prediction);
  const g = answerTokens(groundTruth);
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

export interface SquadMetric {
  /** Percent, as the official script prints. */
  exactMatch: number;
  f1: number;
  /** Questions evaluated (all of them; unanswered ones score 0). */
  total: number;
  /** Questions without a prediction. */
  unanswered: number;
}

/**
 * The official SQuAD v1.1 evaluation: for each question the max EM and F1 over its gold answers,
 * averaged over all questions (a question without a prediction counts 0), in percent.
 */
export function squadMetric(
  examples: ReadonlyArray<Pick<SquadExample, 'id' | 'answers'>>,
  predictions: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
): SquadMetric {
  const get = (id: string): string | undefined =>
    predictions instanceof Map
      ? predictions.get(id)
      : Object.hasOwn(predictions, id)
        ? (predictions as Record<string, string>)[id]
        : undefined;
  let em = 0;
  let f1 = 0;
  let unanswered = 0;
  for (const ex of examples) {
    const pred = get(ex.id);
    if (pred === undefined) {
      unanswered++;
      continue;
    }
    const truths = ex.answers.map((a) => a.text);
    if (truths.length === 0) continue;
    em += Math.max(...truths.map((t) => exactMatchScore(pred, t)));
    f1 += Math.max(...truths.map((t) => f1Score(pred, t)));
  }
  const total = examples.length;
  return {
    exactMatch: total ? (100 * em) / total : 0,
    f1: total ? (100 * f1) / total : 0,
    total,
    unanswered,
  };
}
