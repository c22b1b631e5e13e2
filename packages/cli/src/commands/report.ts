// `ziplm report`: (re)write a run's report from its results and print its summary.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RunResults } from '@ziplm/pipeline';
import { defineCommand } from '../command.js';
import { fmt, membersTable } from './shared.js';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const reportCommand = defineCommand({
  name: 'report',
  summary: "Rewrite a run directory's report.md and plots from its results.json, and print the summary",
  options: {
    run: { type: 'string', description: 'Run directory', required: true, valueName: 'DIR' },
    json: { type: 'boolean', description: 'Print results.json', default: false },
  },
  examples: [{ command: 'ziplm report --run runs/tiny-bert-oneshot-latency-b1-s128', description: "Regenerate and show a run's report" }],
  async run({ options, io }) {
    const { writeReport, checkRunResults, RESULTS_FILE, TaskDataError } = await import('@ziplm/pipeline');
    const dir = resolve(io.cwd, options.run);
    const file = join(dir, RESULTS_FILE);
    let results: RunResults;
    try {
      results = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new TaskDataError(file, `cannot read the run's results (${messageOf(error)})`, { cause: error });
    }
    try {
      checkRunResults(results);
    } catch (error) {
      throw new TaskDataError(file, messageOf(error), { cause: error });
    }
    await writeReport(dir, results);
    if (options.json) {
      io.stdout(`${JSON.stringify(results, null, 2)}\n`);
      return;
    }
    io.stdout(
      `${results.metric.label}: dense ${fmt.metric(results.dense.metric)}\n\n${membersTable(results, { header: 'method', cell: (m) => m.method })}\n\nreport: ${join(dir, 'report.md')}\n`,
    );
  },
});
