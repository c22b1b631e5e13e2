// Tutorial 4: gradual ZipLM with layer-wise token distillation, the paper's main mode, and the
// token-distillation ablation of its Table 3 in the same run. The page (tutorials/gradual.md) shows
// the regions of this file and of gradual.sh; test/e2e/gradual.test.ts runs both on the built-in tiny
// BERT with the built-in sample text.

// #region imports
import { pathToFileURL } from 'node:url';
import { runGradual, type GradualOptions, type RunResults } from '@ziplm/pipeline';
// #endregion imports

// #region gradual
export interface GradualTutorialOptions {
  /** The dense model, fine-tuned on the task: it is both the starting point and the teacher. */
  modelDir: string;
  /** 'sst2' or 'qnli' for GLUE; 'samples' runs on the built-in sentences. */
  task: 'sst2' | 'qnli' | 'samples';
  runDir: string;
  /** Ascending: each target is pruned from the previous member. The paper goes 2, 3, 4, …, 15x. */
  targets?: number[];
  /** The low-data setting: fine-tune on this many training sentences (the paper's Table 3 regime). */
  trainSamples?: number;
  /** Passed to runGradual as they are; the test uses this for a quick run. Leave it out. */
  overrides?: Partial<GradualOptions>;
}

export async function gradualWithDistillation({
  modelDir,
  task,
  runDir,
  targets = [2, 3, 4, 6, 8],
  trainSamples = 2000,
  overrides = {},
}: GradualTutorialOptions): Promise<RunResults> {
  return runGradual({
    modelDir,
    runDir,
    task,
    targets,
    environment: { mode: 'latency', sequenceLength: 128 },
    fineTune: {
      trainSamples,
      // Everything else defaults to the paper's Table 7 for BERT on GLUE: 8 epochs per step, peak
      // learning rate 8e-5 with linear decay, batch 32, weight decay 0.03, temperature 2.
    },
    variants: [
      // Table 7's GLUE weights: λ1 = 0 (no task loss), λ2 = 0.5 (logits), λ3 = 0.5 (hidden states).
      {},
      // The ablation: the same family without layer-wise token distillation.
      { name: 'no token distillation', weights: { token: 0 } },
    ],
    onEvent: (e) => {
      if (e.kind === 'stage') console.log(`- ${e.message}`);
      if (e.kind === 'member')
        console.log(`  member ${e.member.variant ?? 'ziplm'} ${e.member.target}x: ${e.member.metric?.toFixed(2) ?? '—'}`);
    },
    ...overrides,
  });
}
// #endregion gradual

// #region compare
/** Token distillation's gain at each target: the main family's metric minus the ablation's. */
export function tokenDistillationGain(
  results: RunResults,
): Array<{ target: number; withToken: number; withoutToken: number; gain: number }> {
  const rows = [];
  for (const m of results.members.filter((x) => !x.variant)) {
    const ablation = results.members.find((x) => x.variant === 'no token distillation' && x.target === m.target);
    if (m.metric === undefined || ablation?.metric === undefined) continue;
    rows.push({ target: m.target, withToken: m.metric, withoutToken: ablation.metric, gain: m.metric - ablation.metric });
  }
  return rows;
}
// #endregion compare

// #region usage
/** The tutorial on your own model. Type-checked with the rest; the test runs it on tiny-bert. */
export async function example(): Promise<void> {
  const results = await gradualWithDistillation({ modelDir: './bert-base-uncased-sst2', task: 'sst2', runDir: 'runs/bert-sst2-gradual' });
  for (const row of tokenDistillationGain(results)) {
    console.log(
      `${row.target}x: ${row.withToken.toFixed(2)} with token distillation, ${row.withoutToken.toFixed(2)} without (${row.gain >= 0 ? '+' : ''}${row.gain.toFixed(2)})`,
    );
  }
}

// Run as a script (`pnpm exec tsx --conditions=@ziplm/source gradual.ts`); importing it runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await example();
// #endregion usage
