// Recipe: the word-order teacher, ziplm's BERT testbed whose layers matter (the recipe itself is
// `trainWordOrderTeacher` in src/recipes.ts; `ziplm train wordorder-bert` runs the same function).
//
//   pnpm --filter @ziplm/distill teacher:wordorder            (resumes automatically if interrupted)
//
// Options: every field of WORDORDER_TEACHER_DEFAULTS as --kebab-case (--epochs 3, --lr 3e-4, --fresh, ...), plus
// --out (default: packages/teachers/teachers/wordorder-bert, the committed teacher), --work (training state,
// default <repo>/runs/teachers/wordorder-bert, git-ignored), --data-dir (default $ZIPLM_DATA_DIR) and --log-every.
// The defaults are the options the committed teacher was trained with.

import { fileURLToPath } from 'node:url';
import { WORDORDER_TEACHER_DEFAULTS, trainWordOrderTeacher } from '../src/index.js';
import { defaultRecipeWorkDir } from '../src/recipes.js';
import { cliPath, fail, log, parseArgs, progressLogger } from './common.js';

const { out, work, dataDir, logEvery, ...hyperparameters } = parseArgs({
  // The committed teachers live in @ziplm/teachers, so that only the CLI's users download them.
  out: fileURLToPath(new URL('../../teachers/teachers/wordorder-bert', import.meta.url)),
  work: defaultRecipeWorkDir('wordorder-bert'),
  dataDir: '',
  logEvery: 50,
  ...WORDORDER_TEACHER_DEFAULTS,
});

try {
  await trainWordOrderTeacher(
    { ...hyperparameters, outDir: cliPath(out), workDir: cliPath(work), ...(dataDir ? { dataDir: cliPath(dataDir) } : {}) },
    { log, onProgress: progressLogger(logEvery) },
  );
} catch (error) {
  fail(error);
}
