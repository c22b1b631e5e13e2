// Recipe: the SST-2 teacher, a small BERT sentence classifier trained from scratch (the recipe itself is
// `trainSst2Teacher` in src/recipes.ts; `ziplm train sst2-bert` runs the same function).
//
//   pnpm --filter @ziplm/distill teacher:sst2            (resumes automatically if interrupted)
//
// Options: every field of SST2_TEACHER_DEFAULTS as --kebab-case (--epochs 3, --lr 3e-4, --fresh, ...), plus
// --out (default: packages/teachers/teachers/sst2-bert, the committed teacher), --work (training state,
// default <repo>/runs/teachers/sst2-bert, git-ignored), --data-dir (default $ZIPLM_DATA_DIR) and --log-every.
// The defaults are the options the committed teacher was trained with.

import { fileURLToPath } from 'node:url';
import { SST2_TEACHER_DEFAULTS, trainSst2Teacher } from '../src/index.js';
import { defaultRecipeWorkDir } from '../src/recipes.js';
import { cliPath, fail, log, parseArgs, progressLogger } from './common.js';

const { out, work, dataDir, logEvery, ...hyperparameters } = parseArgs({
  // The committed teachers live in @ziplm/teachers, so that only the CLI's users download them.
  out: fileURLToPath(new URL('../../teachers/teachers/sst2-bert', import.meta.url)),
  work: defaultRecipeWorkDir('sst2-bert'),
  dataDir: '',
  logEvery: 50,
  ...SST2_TEACHER_DEFAULTS,
});

try {
  await trainSst2Teacher(
    { ...hyperparameters, outDir: cliPath(out), workDir: cliPath(work), ...(dataDir ? { dataDir: cliPath(dataDir) } : {}) },
    { log, onProgress: progressLogger(logEvery) },
  );
} catch (error) {
  fail(error);
}
