import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../src/errors.js';
import { dataDir, dataPath, findRepoRoot, hasData } from '../src/data/index.js';
import { DATA_DIR_ENV, readDataText } from '../src/data/paths.js';
import { jsonErrorOffset, lineColumn } from '../src/internal/json.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('dataDir', () => {
  const saved = process.env[DATA_DIR_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[DATA_DIR_ENV];
    else process.env[DATA_DIR_ENV] = saved;
  });

  it('uses ZIPLM_DATA_DIR when set', () => {
    process.env[DATA_DIR_ENV] = '/some/where/data';
    expect(dataDir()).toBe('/some/where/data');
    expect(dataPath('glue', 'sst2', 'dev.tsv')).toBe('/some/where/data/glue/sst2/dev.tsv');
    expect(hasData('glue/sst2/dev.tsv')).toBe(false);
  });

  it('defaults to ../shared/data beside the repository root', () => {
    delete process.env[DATA_DIR_ENV];
    const root = findRepoRoot(here);
    expect(root).not.toBeNull();
    expect(existsSync(join(root!, 'pnpm-workspace.yaml'))).toBe(true);
    // The test file lives inside the repository, below the root.
    expect(here.startsWith(root!)).toBe(true);
    expect(dataDir()).toBe(resolve(findRepoRoot()!, '..', 'shared', 'data'));
    expect(findRepoRoot('/')).toBeNull();
  });

  it('reads text files with a DataError for missing ones and drops a BOM', () => {
    expect(() => readDataText(join(here, 'no-such-file.txt'))).toThrow(DataError);
    expect(readDataText(join(here, 'fixtures/data/header-only.tsv'))).toBe('sentence\tlabel\n');
  });
});

describe('JSON error location', () => {
  it('returns -1 for valid JSON and the offending offset otherwise', () => {
    for (const ok of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0'])
      expect(jsonErrorOffset(ok), ok).toBe(-1);
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{"a" 1}')).toBe(5);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('{"a": tru}')).toBe(9);
    expect(jsonErrorOffset('{"a": "x\ny"}')).toBe(8);
    expect(jsonErrorOffset('{} x')).toBe(3);
    expect(jsonErrorOffset('01')).toBe(1);
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
  });

  it('agrees with JSON.parse on which texts are valid', () => {
    const base = '{"k": [1, 2.5, "s\\"q", {"n": null, "t": true}], "e": -0.1e-2}';
    // Every prefix and every single-character deletion of a valid document.
    const variants = [...Array(base.length).keys()].flatMap((i) => [base.slice(0, i), base.slice(0, i) + base.slice(i + 1)]);
    for (const v of variants) {
      let valid = true;
      try {
        JSON.parse(v);
      } catch {
        valid = false;
      }
      expect(jsonErrorOffset(v) === -1, v).toBe(valid);
    }
  });
});
