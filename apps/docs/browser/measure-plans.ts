// The latency plans the "Measure this device" page (measure.md) ships: one per built-in model, each the
// level graphs and manifest.json that `ziplm latency --export-levels DIR` writes, generated into
// public/levels/<model>/ by scripts/browser-assets.ts at docs build time. Shared by that script (what to
// export) and the page (what to load, and which `ziplm prune` command takes the table it builds), so the
// two cannot disagree. No imports: runs in the browser and in Node.

/** One built-in model's plan. */
export interface MeasurePlan {
  /** The built-in model (`ziplm … --model <name>`); also its folder under /levels/. */
  readonly model: string;
  /** What the page says about it. */
  readonly title: string;
  /**
   * The workload flags shared by the export and the prune that uses the table (a table of another
   * workload is refused by `ziplm prune`), besides the defaults (latency mode, batch 1).
   */
  readonly workloadArgs: readonly string[];
  /** Tokens per sequence of the workload (what `workloadArgs` and the CLI's default give). */
  readonly sequenceLength: number;
}

/** The plans, the page's default first. */
export const MEASURE_PLANS: readonly MeasurePlan[] = [
  {
    model: 'sst2-bert',
    title: 'the built-in SST-2 BERT (4 layers × 4 heads, hidden 128, FFN 512), batch 1 × 128 tokens',
    // The defaults of `ziplm prune --model sst2-bert`: latency mode, batch 1, 128 tokens.
    workloadArgs: [],
    sequenceLength: 128,
  },
  {
    model: 'tiny-bert',
    // Short sequences keep the tests' table build to seconds; the level grid is the search's own (a
    // table needs a time for every level the structured OBS database holds).
    title: 'tiny-bert, the test model (4 layers × 6 heads, hidden 48, FFN 192, random weights), batch 1 × 16 tokens',
    workloadArgs: ['--seq-length', '16'],
    sequenceLength: 16,
  },
];

/** The plan of `model`, or undefined when the site ships none. */
export function measurePlan(model: string): MeasurePlan | undefined {
  return MEASURE_PLANS.find((p) => p.model === model);
}

/** The site path of a plan's folder (ending in `/`). */
export function planPath(plan: MeasurePlan): string {
  return `/levels/${plan.model}/`;
}

/** The command that prunes for the device whose table was saved as `tableFile`. */
export function pruneCommandFor(plan: MeasurePlan, tableFile: string): string {
  return ['pnpm ziplm prune --model', plan.model, ...plan.workloadArgs, '--table', tableFile].join(' ');
}
