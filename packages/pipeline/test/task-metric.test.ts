// The metric a task reports carries what the report's statistics need: the number of evaluation items
// (for the 95% Wilson interval of an accuracy or agreement) and, for accuracy on gold labels, the
// accuracy of a constant predictor (the majority-class rate), which flags chance-level members.

import { hasData, readGlue, dataPath } from '@ziplm/models/data';
import { WordPieceTokenizer } from '@ziplm/models/tokenizers';
import { describe, expect, it } from 'vitest';
import { prepareTask } from '../src/tasks/index.js';
import { tinyBert } from './pipeline-helpers.js';

const tokenizer = new WordPieceTokenizer({ vocab: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'the', 'film'] });

describe('task metric', () => {
  it('gives the agreement metric of the built-in samples its item count and no chance level', () => {
    const task = prepareTask('samples', tinyBert().config, tokenizer);
    expect(task.metric.name).toBe('agreement');
    expect(task.metric.items).toBeGreaterThan(0);
    expect(task.metric.items).toBe(task.calibration.length);
    expect(task.metric.chance).toBeUndefined();
  });

  const sst2 = hasData('glue/sst2/train.tsv', 'glue/sst2/dev.tsv');
  it.skipIf(!sst2)('gives SST-2 accuracy its item count and majority-class rate (needs $ZIPLM_DATA_DIR/glue/sst2)', () => {
    const task = prepareTask('sst2', tinyBert().config, tokenizer, { calibrationSamples: 8 });
    const dev = readGlue(dataPath('glue', 'sst2', 'dev.tsv'), 'sst2');
    const positives = dev.filter((e) => e.label === 1).length;
    expect(task.metric.items).toBe(dev.length);
    expect(task.metric.chance).toBeCloseTo((100 * Math.max(positives, dev.length - positives)) / dev.length, 10);
    const limited = prepareTask('sst2', tinyBert().config, tokenizer, { calibrationSamples: 8, evalLimit: 10 });
    expect(limited.metric.items).toBe(10);
  });
});
