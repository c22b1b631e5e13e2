// ziplm's train / held-out splits, one owner for every rule. Only QNLI's and SQuAD's dev sets and
// WikiText-2's wiki.test.raw are available on these machines, so each is split deterministically into
// a part for calibration and fine-tuning (teachers included) and a part every reported metric is
// measured on. Whoever trains or calibrates and whoever scores must call the same rule here, or
// training text leaks into the held-out part.

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
