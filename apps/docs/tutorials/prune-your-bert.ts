// Tutorial 2: prune your own Hugging Face BERT on a GLUE task with @ziplm/pipeline.
// The page (tutorials/prune-your-bert.md) shows the regions of this file; test/e2e/prune-your-bert.test.ts
// runs it on the built-in tiny BERT with the built-in sample text.

// #region imports
import { pathToFileURL } from 'node:url';
import { loadModelDir } from '@ziplm/models';
import { runOneShot, type OneShotOptions, type RunResults } from '@ziplm/pipeline';
// #endregion imports

// #region check-model
/** Loads the model once, before the long run, and says what it is: a bad directory fails here. */
export async function describeModel(modelDir: string): Promise<string> {
  const { checkpoint, tokenizer } = await loadModelDir(modelDir);
  const c = checkpoint.config;
  if (c.modelType !== 'bert') throw new Error(`${modelDir}: expected a BERT model, got ${c.modelType}`);
  const head = c.head.type === 'classification' ? `${c.head.labels.length}-label classifier` : c.head.type;
  return `BERT, ${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, FFN ${c.intermediateSize}, ${head}, vocabulary ${tokenizer.vocabSize}`;
}
// #endregion check-model

// #region prune
/** What to prune, and how hard. */
export interface PruneOnGlueOptions {
  /** A Hugging Face BERT fine-tuned on the task: config.json, model.safetensors, vocab.txt or tokenizer.json. */
  modelDir: string;
  /** 'sst2' or 'qnli' ($ZIPLM_DATA_DIR/glue/…); 'samples' runs without a dataset. */
  task: 'sst2' | 'qnli' | 'samples';
  /** Where the run writes everything; rerunning the same call resumes there. */
  runDir: string;
  /** Speedup targets relative to the dense model. */
  targets?: number[];
  /**
   * Settings passed to runOneShot as they are, after the tutorial's own. The test uses this to run
   * the tutorial quickly (fewer calibration sequences, a short latency table); leave it out.
   */
  overrides?: Partial<OneShotOptions>;
}

/** One-shot ZipLM with both baselines, for batch-1 latency at sequence length 128. */
export async function pruneOnGlue({
  modelDir,
  task,
  runDir,
  targets = [2, 3, 4],
  overrides = {},
}: PruneOnGlueOptions): Promise<RunResults> {
  return runOneShot({
    modelDir,
    runDir,
    task, // calibration on the training split, accuracy on dev
    targets,
    environment: { mode: 'latency', sequenceLength: 128 }, // batch 1, 2 onnxruntime threads
    methods: ['ziplm', 'magnitude', 'uniform'], // ZipLM and the two baselines, same table and search
    onEvent: (e) => {
      if (e.kind === 'stage') console.log(`- ${e.message}`);
      if (e.kind === 'warning') console.warn(`warning: ${e.message}`);
    },
    ...overrides,
  });
}
// #endregion prune

// #region summarize
/** One line per member: the speedup it was asked for, the one it got, and what it costs in accuracy. */
export function summarize(results: RunResults): string[] {
  const dense = results.dense.metric;
  return results.members.map((m) => {
    const measured = m.measuredSpeedup === undefined ? 'not re-timed' : `measured ${m.measuredSpeedup.toFixed(2)}x (${m.status})`;
    const delta =
      m.metric !== undefined && dense !== undefined
        ? ` (${m.metric - dense >= 0 ? '+' : ''}${(m.metric - dense).toFixed(2)} vs dense)`
        : '';
    return `${m.method.padEnd(9)} ${m.target}x: predicted ${m.predictedSpeedup.toFixed(2)}x, ${measured}, ${results.metric.name} ${m.metric?.toFixed(2) ?? '—'}${delta}, ${m.dir}`;
  });
}
// #endregion summarize

// #region usage
/** The tutorial on your own model. Type-checked with the rest; the test runs the same calls on tiny-bert. */
export async function example(): Promise<void> {
  const modelDir = './bert-base-uncased-sst2'; // your fine-tuned checkpoint directory
  console.log(await describeModel(modelDir));
  const results = await pruneOnGlue({ modelDir, task: 'sst2', runDir: 'runs/bert-sst2', targets: [2, 3, 4, 6] });
  for (const line of summarize(results)) console.log(line);
  console.log('report: runs/bert-sst2/report.md');
}

// Run as a script (`pnpm exec tsx --conditions=@ziplm/source prune-your-bert.ts`); importing it runs nothing.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await example();
// #endregion usage
