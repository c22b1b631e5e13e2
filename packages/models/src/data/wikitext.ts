// WikiText raw files and perplexity over fixed-length chunks: the whole split is tokenized as one
// text, cut into non-overlapping chunks of `chunkLength` ids, and each chunk is scored on its own
// (the first token of a chunk has no context and is not predicted). This is the standard procedure
// of the SparseGPT/OBC code bases (guide/paper.md: ppl = exp of the mean token NLL over chunks);
// with equal-length chunks, exp(Σ NLL / Σ predicted tokens) is the same number.

import { DataError } from '../errors.js';
import { readDataText } from './paths.js';

/** Reads a WikiText raw file (e.g. wiki.test.raw) as one string; DataError when missing or empty. */
export function readWikiText(file: string): string {
  const text = readDataText(file);
  if (text.trim().length === 0) throw new DataError(file, 'empty file');
  return text;
}

export interface ChunkOptions {
  /** Also return the last, shorter chunk (when it has at least 2 tokens). Default false. */
  keepRemainder?: boolean;
  /** Use at most this many chunks (from the start). */
  maxChunks?: number;
}

/** Cuts token ids into non-overlapping chunks of `chunkLength` (views into one Int32Array). */
export function chunkTokenIds(ids: ArrayLike<number>, chunkLength: number, options: ChunkOptions = {}): Int32Array[] {
  if (!Number.isInteger(chunkLength) || chunkLength < 2) throw new RangeError(`chunkLength must be an integer >= 2, got ${chunkLength}`);
  const all = ids instanceof Int32Array ? ids : Int32Array.from(ids);
  const chunks: Int32Array[] = [];
  const limit = options.maxChunks ?? Infinity;
  let start = 0;
  for (; start + chunkLength <= all.length && chunks.length < limit; start += chunkLength) {
    chunks.push(all.subarray(start, start + chunkLength));
  }
  if (options.keepRemainder && chunks.length < limit && all.length - start >= 2) chunks.push(all.subarray(start));
  return chunks;
}

/** Number of predicted tokens in chunks (each chunk predicts all but its first token). */
export function predictedTokenCount(chunks: ReadonlyArray<ArrayLike<number>>): number {
  let n = 0;
  for (const c of chunks) n += Math.max(0, c.length - 1);
  return n;
}

/** Perplexity exp(total negative log-likelihood (nats) / number of predicted tokens). */
export function perplexity(totalNll: number, tokenCount: number): number {
  if (!(tokenCount > 0)) throw new RangeError(`perplexity needs a positive token count, got ${tokenCount}`);
  if (!Number.isFinite(totalNll) || totalNll < 0) throw new RangeError(`perplexity needs a finite non-negative NLL sum, got ${totalNll}`);
  return Math.exp(totalNll / tokenCount);
}

/** A top-level heading line `" = Title = "` (one `=` on each side): the first line of an article. */
const ARTICLE_HEADING = /^ = [^=].* = $/;

/**
 * Splits WikiText raw text into articles: an article starts at a top-level heading line
 * `" = Title = "` (one `=` on each side). Blank lines before the first heading belong to no article
 * (so a file that starts with an empty line numbers its articles like one that does not); other text
 * before the first heading forms an article of its own. CRLF line endings are read as LF. Article k's number is what
 * {@link wikiTextSplit} holds out by, so this is the one splitter every user of the split calls.
 */
export function splitWikiTextArticles(text: string): string[] {
  const articles: string[][] = [];
  // CRLF files (a WikiText copy saved on Windows) split like LF ones: with the '\r' left on, no
  // heading line matched, the whole file became one article, and encoding it overflowed the stack.
  for (const line of text.split(/\r?\n/)) {
    const heading = ARTICLE_HEADING.test(line);
    if (articles.length === 0 && !heading && line.trim() === '') continue;
    if (heading || articles.length === 0) articles.push([]);
    articles[articles.length - 1]!.push(line);
  }
  return articles.map((lines) => lines.join('\n'));
}
