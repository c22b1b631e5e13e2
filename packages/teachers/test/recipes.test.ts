// The shipped teachers against the @ziplm/distill recipes that trained them: the same names, and the recipes'
// defaults are the options each teacher's results.json records (so `ziplm train <name>` reproduces it).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GPT2_TEACHER_DEFAULTS, RECIPES, SST2_TEACHER_DEFAULTS, type RecipeName } from '@ziplm/distill';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { TEACHERS, teacherDir, type TeacherName } from '../src/index.js';

describe('teachers and recipes', () => {
  it('name the same models', () => {
    // @ziplm/distill does not depend on this package, so each declares the names: the two must not drift.
    expectTypeOf<RecipeName>().toEqualTypeOf<TeacherName>();
    expect([...RECIPES].sort()).toEqual([...TEACHERS].sort());
  });
});

describe('recipe defaults', () => {
  it('are the options the committed teachers were trained with', () => {
    for (const [name, defaults] of [
      ['sst2-bert', SST2_TEACHER_DEFAULTS],
      ['wikitext2-gpt2', GPT2_TEACHER_DEFAULTS],
    ] as const) {
      const used = JSON.parse(readFileSync(join(teacherDir(name), 'results.json'), 'utf8')).options as Record<string, unknown>;
      for (const [key, value] of Object.entries(defaults)) {
        if (key === 'fresh' || !(key in used)) continue; // `fresh` is how a run started, not a hyperparameter
        expect({ [key]: used[key] }).toEqual({ [key]: value });
      }
    }
  });
});
