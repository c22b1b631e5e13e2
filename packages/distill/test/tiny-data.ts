// Test helper: tiny generated datasets in the layout of $ZIPLM_DATA_DIR (never the real data), small enough
// for a recipe to train a few steps in seconds.
import { seededRandom } from '@ziplm/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const POSITIVE = ['good', 'great', 'charming', 'moving', 'funny', 'bright', 'warm', 'clever'];
const NEGATIVE = ['bad', 'dull', 'bleak', 'tired', 'flat', 'grim', 'weak', 'boring'];
const FILLER = ['the', 'film', 'is', 'a', 'story', 'very', 'and', 'plot', 'acting', 'often'];

/** Deterministic sentences whose label is given by a sentiment word. */
function sentences(n: number, seed: number): string[] {
  const uniform = seededRandom(seed);
  const next = (m: number) => Math.floor(uniform() * m);
  return Array.from({ length: n }, () => {
    const label = next(2);
    const words = Array.from({ length: 2 + next(4) }, () => FILLER[next(FILLER.length)]!);
    words.splice(next(words.length + 1), 0, (label ? POSITIVE : NEGATIVE)[next(8)]!);
    return `${words.join(' ')} \t${label}`;
  });
}

/** Writes glue/sst2/{train,train-holdout,dev}.tsv under `dir` (`n` training lines) and returns `dir`. */
export function writeTinySst2(dir: string, n = 40): string {
  const sst2 = join(dir, 'glue', 'sst2');
  mkdirSync(sst2, { recursive: true });
  const write = (file: string, count: number, seed: number) =>
    writeFileSync(join(sst2, file), `sentence\tlabel\n${sentences(count, seed).join('\n')}\n`);
  write('train.tsv', n, 1);
  write('train-holdout.tsv', Math.max(8, n >> 2), 2);
  write('dev.tsv', Math.max(8, n >> 2), 3);
  return dir;
}

/** Writes wikitext-2-raw/wiki.test.raw under `dir` with `articles` short articles and returns `dir`. */
export function writeTinyWikiText(dir: string, articles = 12): string {
  const wiki = join(dir, 'wikitext-2-raw');
  mkdirSync(wiki, { recursive: true });
  const lines: string[] = [''];
  for (let k = 0; k < articles; k++) {
    lines.push(` = Article ${k} = `, '', ` The article ${k} is about the film and the story . It is a warm and clever story . `, '');
    lines.push(' = = Plot = = ', '', ` The plot of article ${k} is often bleak , but the acting is good . `, '');
  }
  writeFileSync(join(wiki, 'wiki.test.raw'), lines.join('\n'));
  return dir;
}
