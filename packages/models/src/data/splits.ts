// ziplm's train / held-out splits, one owner for every rule. Only QNLI's and SQuAD's dev sets and
// WikiText-2's wiki.test.raw are available on these machines, so each is split deterministically into
// a part for calibration and fine-tuning (teachers included) and a part every reported metric is
// measured on. Whoever trains or calibrates and whoever scores must call the same rule here, or
// training text leaks into the held-out part. A user's own data (one file, or a corpus) is split by
// the seeded rules at the end of this file.

import { mixSeed, xorshift32 } from '@ziplm/core';
import { DataError } from '../errors.js';
import type { SquadExample } from './squad.js';
import { splitWikiTextArticles } from './wikitext.js';

/** `train`: calibration and fine-tuning data; `heldout`: what metrics are measured on. */
export type SplitPart = 'train' | 'heldout';

/** QNLI dev.tsv: even rows (0, 2, …) are the training part, odd rows are held out. */
export function qnliDevSplit<T>(rows: readonly T[], part: SplitPart): T[] {
  const heldOut = part === 'heldout';
  return rows.filter((_, i) => (i % 2 === 1) === heldOut);
}

/**
 * SQuAD v1.1 dev: split by article, so no context paragraph is on both sides. Articles are numbered
 * by the first appearance of their title; the questions of even-numbered articles are the training
 * part, those of odd-numbered articles are held out.
 */
export function squadDevSplit(examples: readonly SquadExample[], part: SplitPart): SquadExample[] {
  const article = new Map<string, number>();
  for (const e of examples) if (!article.has(e.title)) article.set(e.title, article.size);
  const heldOut = part === 'heldout';
  return examples.filter((e) => (article.get(e.title)! % 2 === 1) === heldOut);
}

/** Whether WikiText article k (numbered by {@link splitWikiTextArticles}) is held out: k % 10 === 9. */
export function isWikiTextHeldOut(article: number): boolean {
  return article % 10 === 9;
}

/** The fewest articles a WikiText file may have: with fewer, no article is held out. */
export const WIKITEXT_MIN_ARTICLES = 10;

/** The WikiText rule in words (recorded in the GPT2 teacher's results.json). */
export const WIKITEXT_SPLIT_RULE =
  'article k is held out when k % 10 === 9 (articles start at top-level " = Title = " lines of wiki.test.raw)';

/** The articles of one WikiText file on each side of the split. */
export interface WikiTextArticleSplit {
  /** Articles in the file. */
  readonly articles: number;
  readonly train: string[];
  readonly heldout: string[];
}

/**
 * Splits one WikiText raw file by article (the GPT2 teacher trains on `train`; every perplexity
 * ziplm reports is on `heldout`): no held-out text, not even its vocabulary, is seen in training.
 * @throws DataError naming `file` when the text has fewer than {@link WIKITEXT_MIN_ARTICLES} articles.
 */
export function wikiTextArticleSplit(text: string, file?: string): WikiTextArticleSplit {
  const articles = splitWikiTextArticles(text);
  if (articles.length < WIKITEXT_MIN_ARTICLES) {
    // With fewer articles nothing is held out, and every perplexity would be over an empty set.
    throw new DataError(
      file ?? '(WikiText text)',
      `has ${articles.length} article(s) (top-level " = Title = " heading lines): at least ${WIKITEXT_MIN_ARTICLES} are needed to hold out every tenth for scoring`,
    );
  }
  const train: string[] = [];
  const heldout: string[] = [];
  articles.forEach((a, k) => {
    (isWikiTextHeldOut(k) ? heldout : train).push(a);
  });
  return { articles: articles.length, train, heldout };
}

/** One side of {@link wikiTextArticleSplit}. */
export function wikiTextSplit(text: string, part: SplitPart, file?: string): string[] {
  return wikiTextArticleSplit(text, file)[part];
}

/** Word order: every this-many-th training sentence is set aside for model selection (validation). */
const WORD_ORDER_VALIDATION_EVERY = 20;

/**
 * The word-order corpus's training sentences (in corpus order) on one side of the model-selection split:
 * every 20th is `validation`, the rest `train`. Held-out sentences never enter it (WORD_ORDER_SPLIT_RULE).
 */
export function wordOrderValidationSplit<T>(sentences: readonly T[], part: 'train' | 'validation'): T[] {
  const validation = part === 'validation';
  return sentences.filter((_, i) => (i % WORD_ORDER_VALIDATION_EVERY === WORD_ORDER_VALIDATION_EVERY - 1) === validation);
}

/** The word-order split rule in words (recorded in the teacher's results.json and shown by the task). */
export const WORD_ORDER_SPLIT_RULE =
  'training: SST-2 train.tsv sentences, WikiText-2 training articles (k % 10 !== 9) and SQuAD dev contexts of even-numbered articles, ' +
  'every 20th sentence set aside for validation; held out: WikiText-2 held-out articles (k % 10 === 9) and SQuAD dev contexts of ' +
  'odd-numbered articles; a sentence that occurs on both sides is dropped from training';

// ---------------------------------------------------------------------------------------------------
// Seeded splits of a user's own data (guide: data formats, apps/docs/guide/data-formats.md). A user who
// gives one file (`--data`) gets it split into train / validation / test by a seed the run records, so
// the same seed gives the same parts on every machine and every JavaScript engine.

/** The fractions of the items held out for validation and test; the rest is training data. */
export interface SplitFractions {
  /** In [0, 1). */
  readonly validation: number;
  /** In [0, 1); validation + test < 1. */
  readonly test: number;
}

/** The three parts of a seeded split, each in input order. */
export interface ThreeWaySplit<T> {
  readonly train: T[];
  readonly validation: T[];
  readonly test: T[];
}

/** 10% validation, 10% test, 80% training. */
export const DEFAULT_SPLIT_FRACTIONS: SplitFractions = { validation: 0.1, test: 0.1 };

/** Refuses fractions outside [0, 1) or summing to 1 or more, and a seed that is not a whole number. */
function checkSplit(fractions: SplitFractions, seed: number): void {
  for (const part of ['validation', 'test'] as const) {
    const value = fractions[part];
    if (!(Number.isFinite(value) && value >= 0 && value < 1)) {
      throw new DataError('split', `the ${part} fraction must be in [0, 1), got ${value}`);
    }
  }
  if (!(fractions.validation + fractions.test < 1)) {
    throw new DataError(
      'split',
      `validation + test must be < 1 (something must be left to train on), got ${fractions.validation} + ${fractions.test}`,
    );
  }
  if (!Number.isSafeInteger(seed)) throw new DataError('split', `the seed must be a whole number, got ${seed}`);
}

/**
 * Which part each of `n` items goes to: the items are shuffled (Fisher–Yates, xorshift32 of `seed`),
 * the first round(test · n) go to test, the next round(validation · n) to validation, the rest to
 * training. With two or more items at least one stays in training (validation gives way first, then
 * test): a class or corpus seen only in held-out data could not be learned.
 */
function assignParts(n: number, fractions: SplitFractions, seed: number): ('train' | 'validation' | 'test')[] {
  let test = Math.min(Math.round(fractions.test * n), n);
  let validation = Math.min(Math.round(fractions.validation * n), n - test);
  if (n >= 2) {
    const excess = test + validation - (n - 1);
    if (excess > 0) {
      const fromValidation = Math.min(excess, validation);
      validation -= fromValidation;
      test -= excess - fromValidation;
    }
  }
  const order = Array.from({ length: n }, (_, i) => i);
  const random = xorshift32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = order[i]!;
    order[i] = order[j]!;
    order[j] = swap;
  }
  const parts = new Array<'train' | 'validation' | 'test'>(n).fill('train');
  order.forEach((item, rank) => {
    if (rank < test) parts[item] = 'test';
    else if (rank < test + validation) parts[item] = 'validation';
  });
  return parts;
}

/** FNV-1a of a string's UTF-16 units: a label's own seed offset, so its split ignores the other labels. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * Seeded stratified split: the items of each label are split on their own ({@link seededSplit}'s
 * rule, shuffled with xorshift32 of mixSeed(seed, hash of the label)), so every part keeps the label
 * proportions up to rounding, and a label's split does not change when rows of other labels are
 * added. Every label with two or more items keeps at least one training item. Each part keeps the
 * input order.
 * @throws DataError('split', ...) when a fraction is outside [0, 1), they sum to 1 or more, or the
 * seed is not a whole number.
 */
export function stratifiedSplit<T>(
  items: readonly T[],
  labelOf: (item: T) => string,
  fractions: SplitFractions,
  seed: number,
): ThreeWaySplit<T> {
  checkSplit(fractions, seed);
  const byLabel = new Map<string, number[]>();
  items.forEach((item, i) => {
    const label = labelOf(item);
    const members = byLabel.get(label);
    if (members === undefined) byLabel.set(label, [i]);
    else members.push(i);
  });
  const parts = new Array<'train' | 'validation' | 'test'>(items.length);
  for (const [label, members] of byLabel) {
    const labelParts = assignParts(members.length, fractions, mixSeed(seed, hashLabel(label)));
    members.forEach((item, k) => {
      parts[item] = labelParts[k]!;
    });
  }
  return collectParts(items, parts);
}

/**
 * Seeded split of items without labels (a corpus's documents): shuffled with xorshift32 of `seed`,
 * the first round(test · n) go to test, the next round(validation · n) to validation, the rest to
 * training; with two or more items at least one stays in training. Each part keeps the input order.
 * @throws DataError('split', ...) as {@link stratifiedSplit}.
 */
export function seededSplit<T>(items: readonly T[], fractions: SplitFractions, seed: number): ThreeWaySplit<T> {
  checkSplit(fractions, seed);
  return collectParts(items, assignParts(items.length, fractions, seed));
}

function collectParts<T>(items: readonly T[], parts: readonly ('train' | 'validation' | 'test')[]): ThreeWaySplit<T> {
  const split: ThreeWaySplit<T> = { train: [], validation: [], test: [] };
  items.forEach((item, i) => {
    split[parts[i]!].push(item);
  });
  return split;
}

/** A fraction as a percentage with at most one decimal: 0.1 → `10%`, 0.125 → `12.5%`. */
function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

/**
 * The split in one sentence, for reports and results.json, e.g.
 * `seeded split (seed 42, stratified by label): 80% train, 10% validation, 10% test`.
 */
export function describeSeededSplit(fractions: SplitFractions, seed: number, stratified: boolean): string {
  const train = 1 - fractions.validation - fractions.test;
  const how = stratified ? `seed ${seed}, stratified by label` : `seed ${seed}`;
  return `seeded split (${how}): ${percent(train)} train, ${percent(fractions.validation)} validation, ${percent(fractions.test)} test`;
}
