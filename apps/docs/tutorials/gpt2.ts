// Tutorial 5: prune GPT2 twice from the same checkpoint: for throughput (large batches of full
// sequences) and for generation (one new token at a time against a KV cache). The page
// (tutorials/gpt2.md) shows the regions of this file; test/e2e/gpt2.test.ts runs it on the built-in
// tiny GPT2 with the built-in sample text.

// #region imports
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InferenceEnvironmentOptions } from '@ziplm/latency';
import { runOneShot, type OneShotOptions, type RunResults } from '@ziplm/pipeline';
// #endregion imports

// #region environments
/** The two deployments: the same model is pruned differently for each, because different modules dominate. */
export const GPT2_ENVIRONMENTS = {
  // 16 sequences of 128 tokens per forward pass: attention and FFN both scale with the tokens.
  throughput: { mode: 'throughput', batchSize: 16, sequenceLength: 128 },
  // One sequence decoding one token per step with a 50-token KV cache (the reference's timing setup).
  generation: { mode: 'generation', batchSize: 1, pastLength: 50 },
} as const satisfies Record<string, InferenceEnvironmentOptions>;
// #endregion environments

// #region prune
export interface Gpt2TutorialOptions {
  /** A GPT2 checkpoint directory (config.json, model.safetensors, vocab.json + merges.txt). */
  modelDir: string;
  /** 'wikitext' (held-out perplexity on $ZIPLM_DATA_DIR/wikitext-2-raw) or 'samples' (built-in text). */
  task: 'wikitext' | 'samples';
  /** Parent directory of the two run directories. */
  runsDir: string;
  /** The paper's GPT2 targets are 1.5, 2, 2.5 and 3x (Table 7). */
  targets?: number[];
  /** Passed to runOneShot as they are; the test uses this for a quick run. Leave it out. */
  overrides?: Partial<OneShotOptions>;
}

/** Prunes the model for each environment; returns the results per environment. */
export async function pruneGpt2ForBoth({ modelDir, task, runsDir, targets = [1.5, 2, 2.5, 3], overrides = {} }: Gpt2TutorialOptions) {
  const results: Partial<Record<keyof typeof GPT2_ENVIRONMENTS, RunResults>> = {};
  for (const [name, environment] of Object.entries(GPT2_ENVIRONMENTS) as Array<
    [keyof typeof GPT2_ENVIRONMENTS, InferenceEnvironmentOptions]
  >) {
    results[name] = await runOneShot({
      modelDir,
      runDir: join(runsDir, `gpt2-${name}`), // one run directory (and latency table) per environment
      task, // calibration and perplexity on disjoint parts of the text
      targets,
      environment,
      onEvent: (e) => e.kind === 'stage' && console.log(`[${name}] ${e.message}`),
      ...overrides,
    });
  }
  return results as Record<keyof typeof GPT2_ENVIRONMENTS, RunResults>;
}
// #endregion prune

// #region compare
/** Where each environment's pruning went: heads and FFN neurons kept, per target. */
export function compareStructures(results: Record<string, RunResults>): string[] {
  const lines: string[] = [];
  for (const [name, run] of Object.entries(results)) {
    for (const m of run.members) {
      const heads = m.layerHeads.reduce((a, b) => a + b, 0);
      const neurons = m.layerIntermediate.reduce((a, b) => a + b, 0);
      const ppl = m.metric === undefined ? '—' : m.metric.toFixed(1);
      lines.push(
        `${name.padEnd(10)} ${m.target}x: heads ${heads}/${run.model.numLayers * run.model.numHeads}, FFN ${neurons}/${run.model.numLayers * run.model.intermediateSize}, ${run.metric.name} ${ppl} (dense ${run.dense.metric?.toFixed(1) ?? '—'})`,
      );
    }
  }
  return lines;
}
// #endregion compare

// #region usage
/** The tutorial on your own model. Type-checked with the rest; the test runs it on tiny-gpt2. */
export async function example(): Promise<void> {
  const results = await pruneGpt2ForBoth({ modelDir: './gpt2', task: 'wikitext', runsDir: 'runs' });
  for (const line of compareStructures(results)) console.log(line);
}

// Run as a script (`pnpm exec tsx --conditions=@ziplm/source gpt2.ts`); importing it runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await example();
// #endregion usage
