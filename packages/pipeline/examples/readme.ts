import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { runOneShot } from '@ziplm/pipeline';

// One-shot ZipLM on @ziplm/models' built-in tiny BERT with built-in sample text (no dataset), sized to take
// seconds: a real run uses a trained model, a task with data, and the default calibration and timing settings.
const results = await runOneShot({
  modelDir: builtinModelDir('tiny-bert'),
  runDir: mkdtempSync(join(tmpdir(), 'ziplm-example-')),
  targets: [1.5],
  task: 'samples',
  methods: ['ziplm'],
  calibrationSamples: 16,
  engine: 'js',
  tableRounds: { minRounds: 3, maxRounds: 5 },
  retarget: 0,
  onEvent: (e) => e.kind === 'stage' && console.log(e.message),
});
for (const m of results.members) console.log(m.method, m.target, m.predictedSpeedup, m.measuredSpeedup, m.metric);
