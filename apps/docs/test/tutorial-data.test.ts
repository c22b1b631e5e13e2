// The example data of tutorial 7 that the site serves (public/data/your-data/) are what the
// generator writes, byte for byte: the page's commands and its test run on the same files.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { notesFiles, SERVED_DATA_DIR, ticketsCsv } from '../scripts/tutorial-data.ts';

describe('tutorial 7 data', () => {
  it('serves the generated tickets.csv and notes/', () => {
    expect(readFileSync(join(SERVED_DATA_DIR, 'tickets.csv'), 'utf8')).toBe(ticketsCsv());
    const notes = notesFiles();
    expect(readdirSync(join(SERVED_DATA_DIR, 'notes')).sort()).toEqual(Object.keys(notes).sort());
    for (const [name, text] of Object.entries(notes)) expect(readFileSync(join(SERVED_DATA_DIR, 'notes', name), 'utf8')).toBe(text);
  });
});
