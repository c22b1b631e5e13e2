// The run the SIGKILL fault test (kill.test.ts) starts, kills and restarts: a one-shot run of the
// built-in tiny BERT with a fixed latency table, in a process of its own so that it can be killed at
// any moment. Run: node --import tsx --conditions=@ziplm/source test/e2e/kill-child.ts <runDir> <table.json>

import { builtinModelDir } from '@ziplm/models';
import { runOneShot } from '../../src/oneshot.js';
import type { OneShotOptions } from '../../src/oneshot.js';

/** The run's options: those of the resume test's one-shot run (resume.test.ts), so the same files compare equal. */
export function killRunOptions(runDir: string, tablePath: string): OneShotOptions {
  return {
    modelDir: builtinModelDir('tiny-bert'),
    runDir,
    tablePath,
    targets: [1.5, 2, 2.5],
    task: 'samples',
    methods: ['ziplm'],
    calibrationSamples: 16,
    engine: 'js',
    spdy: { randomInits: 1, steps: 1 },
    verify: false,
  };
}

if (process.argv[1] === import.meta.filename) {
  const [runDir, tablePath] = process.argv.slice(2);
  if (runDir === undefined || tablePath === undefined) {
    console.error('usage: kill-child.ts <runDir> <table.json>');
    process.exit(2);
  }
  // Start-up (loading TensorFlow.js and onnxruntime) is over: the test times its kills from here.
  process.stdout.write('started\n');
  await runOneShot(killRunOptions(runDir, tablePath));
}
