// The small example datasets of tutorial 7, "Bring your own data" (tutorials/your-data.md): a CSV of
// support tickets (text classification) and a directory of plain-text notes (language modelling).
// Made by a seeded generator, so the files the site serves (public/data/your-data/) and the files
// the tutorial's test writes are the same bytes (test/tutorial-data.test.ts). Regenerate the served copy with
// `pnpm --filter @ziplm/docs exec tsx --conditions=@ziplm/source scripts/tutorial-data.ts`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { xorshift32 } from '@ziplm/core';

const QUEUES = {
  billing: {
    subjects: ['my invoice', 'the refund', 'a double charge', 'my card payment', 'the annual plan price', 'a receipt'],
    problems: ['is wrong', 'never arrived', 'was charged twice', 'shows the old price', 'needs a VAT number', 'is missing'],
  },
  bug: {
    subjects: ['the export button', 'the mobile app', 'search', 'the dashboard', 'file upload', 'the login page'],
    problems: ['crashes', 'freezes after an update', 'shows an error 500', 'is blank', 'times out', 'loses my changes'],
  },
  account: {
    subjects: ['my password', 'two-factor login', 'my email address', 'a team member', 'my username', 'the account owner'],
    problems: ['cannot be reset', 'needs to change', 'was locked', 'must be removed', 'is not recognised', 'should be transferred'],
  },
} as const;

const OPENERS = ['Hi,', 'Hello team,', 'Urgent:', 'Good morning,', '', 'Hey,'];
const CLOSERS = ['Thanks.', 'Please help, "as soon as possible".', 'Regards, Sam', 'Thank you!', '', 'Can you check?'];

/** RFC 4180 field: quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** tickets.csv: id, subject line and body (with commas and quotes, so the CSV quoting matters), queue. */
export function ticketsCsv(rows = 360, seed = 7): string {
  const next = xorshift32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const queues = Object.keys(QUEUES) as (keyof typeof QUEUES)[];
  const lines = ['id,body,queue'];
  for (let i = 0; i < rows; i++) {
    const queue = queues[i % queues.length]!;
    const { subjects, problems } = QUEUES[queue];
    const body = [pick(OPENERS), `${pick(subjects)} ${pick(problems)},`, `and ${pick(subjects)} ${pick(problems)}.`, pick(CLOSERS)]
      .filter(Boolean)
      .join(' ');
    lines.push([String(1000 + i), csvField(body), queue].join(','));
  }
  return `${lines.join('\n')}\n`;
}

const NOTE_SUBJECTS = ['The garden', 'Our train', 'The library', 'My sister', 'The old bridge', 'This winter', 'The market', 'The river'];
const NOTE_VERBS = [
  'was quiet',
  'opened late',
  'smelled of rain',
  'looked smaller than I remembered',
  'needed repairs',
  'was full of people',
];
const NOTE_ENDINGS = [
  'so we walked home.',
  'and nobody minded.',
  'which surprised me.',
  'as it does every year.',
  'before the sun came out.',
];

/** notes/: text files of short diary entries, one entry per paragraph (documents separated by blank lines). */
export function notesFiles(files = 4, entriesPerFile = 60, seed = 11): Record<string, string> {
  const next = xorshift32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const out: Record<string, string> = {};
  for (let f = 0; f < files; f++) {
    const entries: string[] = [];
    for (let e = 0; e < entriesPerFile; e++) {
      const sentences = Array.from(
        { length: 2 + Math.floor(next() * 3) },
        () => `${pick(NOTE_SUBJECTS)} ${pick(NOTE_VERBS)}, ${pick(NOTE_ENDINGS)}`,
      );
      entries.push(sentences.join(' '));
    }
    out[`week-${f + 1}.txt`] = `${entries.join('\n\n')}\n`;
  }
  return out;
}

/** Writes tickets.csv and notes/ into `dir`. */
export function writeTutorialData(dir: string): void {
  mkdirSync(join(dir, 'notes'), { recursive: true });
  writeFileSync(join(dir, 'tickets.csv'), ticketsCsv());
  for (const [name, text] of Object.entries(notesFiles())) writeFileSync(join(dir, 'notes', name), text);
}

/** Where the site serves the files from. */
export const SERVED_DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../public/data/your-data');

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) writeTutorialData(SERVED_DATA_DIR);
