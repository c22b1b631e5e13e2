// Recipe: the GPT2 teacher, a small causal LM trained from scratch on WikiText-2 text (the recipe itself is
// `trainGpt2Teacher` in src/recipes.ts, which documents the by-article held-out split; `ziplm train
// wikitext2-gpt2` runs the same function).
//
//   pnpm --filter @ziplm/distill teacher:gpt2            (resumes automatically if interrupted)
//
// Options: every field of GPT2_TEACHER_DEFAULTS as --kebab-case (--epochs 3, --lr 1e-3, --fresh, ...), plus
// --out (default: packages/teachers/teachers/wikitext2-gpt2, the committed teacher), --work (training state,
// default <repo>/runs/teachers/wikitext2-gpt2, git-ignored), --data-dir (default $ZIPLM_DATA_DIR) and
// --log-every. The defaults are the options the committed teacher was trained with.

import { fileURLToPath } from 'node:url';
import { GPT2_TEACHER_DEFAULTS, trainGpt2Teacher } from '../src/index.js';
import { defaultRecipeWorkDir } from '../src/recipes.js';
import { cliPath, fail, log, parseArgs, progressLogger } from './common.js';

const { out, work, dataDir, logEvery, ...hyperparameters } = parseArgs({
  // The committed teachers live in @ziplm/teachers, so that only the CLI's users download them.
  out: fileURLToPath(new URL('../../teachers/teachers/wikitext2-gpt2', import.meta.url)),
  work: defaultRecipeWorkDir('wikitext2-gpt2'),
  dataDir: '',
  logEvery: 8,
  ...GPT2_TEACHER_DEFAULTS,
});

try {
  await trainGpt2Teacher(
    { ...hyperparameters, outDir: cliPath(out), workDir: cliPath(work), ...(dataDir ? { dataDir: cliPath(dataDir) } : {}) },
    { log, onProgress: progressLogger(logEvery) },
  );
} catch (error) {
  fail(error);
}
