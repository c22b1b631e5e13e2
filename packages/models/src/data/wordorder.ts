// Word order: is this sentence as written, or are its words shuffled? A relative of SentEval's BShift
// probing task (Conneau et al., 2018), built from the real text ziplm has. Both classes have exactly
// the same bag of words, so no bag-of-words classifier can beat chance: a model must relate positions
// to each other (attention) and know which words follow which in English (what the FFNs store). That
// makes it ziplm's BERT testbed whose layers matter (docs site: guide/data.md); SST-2 sentiment is
// mostly solved by word identity alone. BShift itself (one adjacent pair swapped) stayed at chance for
// 1,100 updates of a from-scratch 4-layer BERT, and so did shuffling a window of 4 words: without
// pretraining the signal is too sparse to learn in the project's 2-core budget. Shuffling the whole
// sentence is learned within a few hundred updates.

import { seededRandom } from '@ziplm/core';
import { DataError } from '../errors.js';
import { readTsv } from './glue.js';
import { readDataJsonText } from './paths.js';
import { parseSquad } from './squad.js';
import { squadDevSplit, wikiTextArticleSplit, wordOrderValidationSplit } from './splits.js';
import { readWikiText } from './wikitext.js';

/** Label names in id order: 0 = the sentence as written, 1 = its words shuffled. */
export const WORD_ORDER_LABELS = ['original', 'shuffled'] as const;

/** The data files the corpus is built from, relative to the data directory. */
export const WORD_ORDER_DATA_FILES = ['glue/sst2/train.tsv', 'wikitext-2-raw/wiki.test.raw', 'squad/dev-v1.1.json'] as const;

/** Sentences shorter or longer than this (in whitespace-separated words) are not used. */
export const WORD_ORDER_MIN_WORDS = 6;
export const WORD_ORDER_MAX_WORDS = 40;

/**
 * Tokens per sentence ([CLS] and [SEP] included) a word-order model is trained and scored at: longer
 * encodings are truncated. Scoring at the length of training matters: positions beyond it were never
 * trained, and a sentence reaching them is scored on noise.
 */
export const WORD_ORDER_MAX_TOKENS = 64;

export type WordOrderSource = 'sst2' | 'wikitext' | 'squad';

export interface WordOrderExample {
  /** The sentence, possibly with its words shuffled. */
  readonly text: string;
  /** Index into {@link WORD_ORDER_LABELS}. */
  readonly label: 0 | 1;
  readonly source: WordOrderSource;
}

export interface WordOrderCorpus {
  /** Training examples (fine-tuning, calibration). */
  readonly train: WordOrderExample[];
  /** Model selection while training a teacher (part of the training sources, never of the held-out ones). */
  readonly validation: WordOrderExample[];
  /** What every reported accuracy is measured on. */
  readonly heldout: WordOrderExample[];
  /** Sentences per source and side, before labelling. */
  readonly counts: Readonly<Record<'train' | 'heldout', Readonly<Record<WordOrderSource, number>>>>;
}

/** The files {@link buildWordOrderCorpus} reads. */
export interface WordOrderFiles {
  readonly sst2Train: string;
  readonly wikitext: string;
  readonly squad: string;
}

/** Undoes WikiText's tokenisation artefacts that would otherwise be words of their own (`@-@`, `@,@`, `@.@`). */
function cleanWikiText(line: string): string {
  return line.replace(/ @(.)@ /g, '$1');
}

/**
 * Splits running text into sentences at `.`, `!` or `?` followed by whitespace and an upper-case
 * letter, a digit or a quote. Good enough for encyclopaedic text; SST-2 rows are already sentences.
 */
export function splitSentences(paragraph: string): string[] {
  return paragraph
    .split(/(?<=[.!?])\s+(?=["'A-Z0-9])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function words(sentence: string): string[] {
  return sentence.split(/\s+/).filter((w) => w.length > 0);
}

function usable(sentence: string): boolean {
  const n = words(sentence).length;
  return n >= WORD_ORDER_MIN_WORDS && n <= WORD_ORDER_MAX_WORDS;
}

/**
 * The words of `sentence` in a random order (Fisher–Yates with `random`) that differs from the original
 * (case-insensitively: the tokenizers lowercase); null when no order differs (every word the same).
 */
export function shuffleWords(sentence: string, random: () => number): string | null {
  const original = words(sentence);
  const key = (w: readonly string[]) => w.map((x) => x.toLowerCase()).join(' ');
  const originalKey = key(original);
  // A shuffle equals the original with probability ≤ 1/2 (two distinct words); ten tries make a miss ≤ 1/1024,
  // and a sentence whose words are all equal can never change.
  for (let attempt = 0; attempt < 10; attempt++) {
    const w = [...original];
    for (let i = w.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [w[i], w[j]] = [w[j]!, w[i]!];
    }
    if (key(w) !== originalKey) return w.join(' ');
  }
  return null;
}

/**
 * Labels sentences: each one, independently with probability 1/2, stays as written (label 0) or has
 * its words shuffled (label 1). Deterministic for `seed`; sentences that cannot be shuffled stay
 * original. The sentence as written is also re-joined with single spaces, so that whitespace does not
 * tell the classes apart.
 */
export function labelWordOrder(sentences: readonly { text: string; source: WordOrderSource }[], seed: number): WordOrderExample[] {
  const random = seededRandom(seed);
  return sentences.map(({ text, source }) => {
    const shuffle = random() < 0.5;
    const shuffled = shuffle ? shuffleWords(text, random) : null;
    return shuffled === null ? { text: words(text).join(' '), label: 0, source } : { text: shuffled, label: 1, source };
  });
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

/**
 * Builds the word-order corpus from the three files (see {@link WORD_ORDER_SPLIT_RULE}): reads them,
 * splits them by the project's split rules (the same rules the SQuAD and WikiText tasks score by, so no
 * held-out article of either is trained on), and labels the sentences with fixed seeds. The same files
 * always give the same corpus.
 * @throws DataError naming the file when one is missing or malformed, or when too few sentences result.
 */
export function buildWordOrderCorpus(files: WordOrderFiles): WordOrderCorpus {
  const sst2 = readTsv(files.sst2Train);
  const column = sst2.header.indexOf('sentence');
  if (column < 0) throw new DataError(files.sst2Train, `line 1: header has no "sentence" column (found: ${sst2.header.join(', ')})`);
  const sst2Sentences = unique(sst2.rows.map((r) => r[column]!.trim()).filter(usable));

  const wiki = wikiTextArticleSplit(readWikiText(files.wikitext), files.wikitext);
  const wikiSentences = (articles: readonly string[]) =>
    unique(
      articles.flatMap((a) =>
        a
          .split('\n')
          .filter((line) => line.trim() !== '' && !/^\s*=/.test(line))
          .flatMap((line) => splitSentences(cleanWikiText(line.trim())))
          .filter(usable),
      ),
    );

  const squad = parseSquad(readDataJsonText(files.squad), files.squad);
  const squadSentences = (part: 'train' | 'heldout') =>
    unique(unique(squadDevSplit(squad, part).map((e) => e.context)).flatMap((c) => splitSentences(c).filter(usable)));

  // Held out: the articles the SQuAD and WikiText tasks score on (WORD_ORDER_SPLIT_RULE in splits.ts).
  const heldoutSources = { wikitext: wikiSentences(wiki.heldout), squad: squadSentences('heldout') };
  const heldoutSet = new Set([...heldoutSources.wikitext, ...heldoutSources.squad]);
  const notHeldOut = (s: string) => !heldoutSet.has(s);
  const trainSources = {
    sst2: sst2Sentences.filter(notHeldOut),
    wikitext: wikiSentences(wiki.train).filter(notHeldOut),
    squad: squadSentences('train').filter(notHeldOut),
  };

  const tagged = (list: readonly string[], source: WordOrderSource) => list.map((text) => ({ text, source }));
  const trainAll = [
    ...tagged(trainSources.sst2, 'sst2'),
    ...tagged(trainSources.wikitext, 'wikitext'),
    ...tagged(trainSources.squad, 'squad'),
  ];
  const heldoutAll = [...tagged(heldoutSources.wikitext, 'wikitext'), ...tagged(heldoutSources.squad, 'squad')];
  if (trainAll.length < 100 || heldoutAll.length < 100) {
    throw new DataError(
      files.squad,
      `the word-order corpus has ${trainAll.length} training and ${heldoutAll.length} held-out sentences of ${WORD_ORDER_MIN_WORDS}–${WORD_ORDER_MAX_WORDS} words: at least 100 of each are needed`,
    );
  }
  const labelledTrain = labelWordOrder(trainAll, 1);
  return {
    train: wordOrderValidationSplit(labelledTrain, 'train'),
    validation: wordOrderValidationSplit(labelledTrain, 'validation'),
    heldout: labelWordOrder(heldoutAll, 2),
    counts: {
      train: { sst2: trainSources.sst2.length, wikitext: trainSources.wikitext.length, squad: trainSources.squad.length },
      heldout: { sst2: 0, wikitext: heldoutSources.wikitext.length, squad: heldoutSources.squad.length },
    },
  };
}
