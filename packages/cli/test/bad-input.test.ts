// Bad input, in-process: a wrong flag value exits 2 and a bad file exits 3, each with a message
// naming the flag or the file, never exit 1 with a stack trace; and nothing is written for a refused
// run. Every case fails before any latency measurement or calibration, so each takes well under a second.

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainingConfigError, TrainingStateError } from '@ziplm/distill';
import {
  EnvironmentError,
  inferenceEnvironment,
  LATENCY_TABLE_FORMAT,
  LATENCY_TABLE_VERSION,
  modelShapeOf,
  saveLatencyTable,
  type LatencyTable,
} from '@ziplm/latency';
import { builtinModelDir, loadCheckpoint, saveCheckpoint, shrinkWeights } from '@ziplm/models';
import { OptionsError, runOneShot } from '@ziplm/pipeline';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../src/internal/error-codes.js';
import { EXIT } from '../src/exit-codes.js';
import { describeOptionsError, flagOf } from '../src/internal/option-flags.js';
import { runCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-cli-bad-'));
let runs = 0;
/** A fresh run directory path (not created). */
const freshRun = () => join(root, `run-${runs++}`);
const fast = ['--task', 'samples', '--calibration-samples', '4', '--no-spdy', '--no-verify', '--engine', 'js'];

/** Runs the CLI and checks the exit code, that the message names `names`, and that there is no stack trace. */
async function expectFailure(argv: string[], code: number, ...names: (string | RegExp)[]) {
  const result = await runCli(argv);
  expect(result.stderr).not.toContain('internal error');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.code, result.stderr).toBe(code);
  for (const name of names) expect(result.stderr).toMatch(name);
  return result;
}

describe('bad option values exit 2 naming the flag, and write nothing', () => {
  it.each([
    [
      'prune: an unknown method',
      ['prune', '--model', 'tiny-bert', ...fast, '--methods', 'ziplm,foo'],
      ['--methods', '"foo"', 'ziplm, magnitude, uniform'],
    ],
    [
      'prune: generation mode with no KV cache',
      ['prune', '--model', 'tiny-gpt2', ...fast, '--mode', 'generation', '--past-length', '0'],
      ['--past-length', 'generation mode'],
    ],
    ['prune: generation mode for a BERT model', ['prune', '--model', 'tiny-bert', ...fast, '--mode', 'generation'], ['--mode', 'GPT2']],
    [
      'prune: no calibration samples',
      ['prune', '--model', 'tiny-bert', ...fast, '--calibration-samples', '0'],
      ['--calibration-samples', '>= 1'],
    ],
    [
      'prune: a fractional calibration sample count',
      ['prune', '--model', 'tiny-bert', ...fast, '--calibration-samples', '2.5'],
      ['--calibration-samples'],
    ],
    ['prune: an evaluation limit of 0', ['prune', '--model', 'tiny-bert', ...fast, '--eval-limit', '0'], ['--eval-limit']],
    ['prune: negative SPDY steps', ['prune', '--model', 'tiny-bert', '--task', 'samples', '--spdy-steps', '-1'], ['--spdy-steps']],
    ['prune: a tolerance of 150%', ['prune', '--model', 'tiny-bert', ...fast, '--tolerance', '1.5'], ['--tolerance']],
    ['prune: a negative seed', ['prune', '--model', 'tiny-bert', ...fast, '--seed', '-3'], ['--seed']],
    ['gradual: no training samples', ['gradual', '--model', 'tiny-bert', ...fast, '--train-samples', '0'], ['--train-samples', '>= 1']],
    ['gradual: zero epochs', ['gradual', '--model', 'tiny-bert', ...fast, '--epochs', '0'], ['--epochs']],
    [
      'gradual: too few epochs for one update',
      ['gradual', '--model', 'tiny-bert', ...fast, '--epochs', '0.01', '--train-samples', '4'],
      ['--epochs', 'no update'],
    ],
    ['gradual: a negative learning rate', ['gradual', '--model', 'tiny-bert', ...fast, '--lr', '-0.001'], ['--lr']],
    [
      'gradual: a zero training batch size',
      ['gradual', '--model', 'tiny-bert', ...fast, '--train-batch-size', '0'],
      ['--train-batch-size'],
    ],
    ['gradual: a zero temperature', ['gradual', '--model', 'tiny-bert', ...fast, '--temperature', '0'], ['--temperature']],
    ['gradual: every loss weight zero', ['gradual', '--model', 'tiny-bert', ...fast, '--lambdas', '0,0,0'], ['--lambdas', 'positive']],
  ])('%s', async (_name, argv, names) => {
    const run = freshRun();
    await expectFailure([...argv, '--run', run], EXIT.usage, ...names);
    expect(existsSync(run)).toBe(false);
  });

  it.each([
    ['eval: an evaluation limit of 0', ['eval', '--model', 'tiny-bert', '--task', 'samples', '--eval-limit', '0'], ['--eval-limit']],
    ['latency: zero rounds', ['latency', '--model', 'tiny-bert', '--min-rounds', '0'], ['--min-rounds']],
    [
      'latency: fewer maximum than minimum rounds',
      ['latency', '--model', 'tiny-bert', '--min-rounds', '5', '--max-rounds', '3'],
      ['--max-rounds'],
    ],
    [
      'latency: generation mode for a BERT model',
      ['latency', '--model', 'tiny-bert', '--mode', 'generation'],
      ['--mode generation', 'GPT2'],
    ],
    [
      'verify: a zero target',
      ['verify', '--dense', 'tiny-bert', '--model', 'tiny-bert', '--table', 'none.json', '--target', '0'],
      ['--target'],
    ],
    ['check: a fractional repeat count', ['check', '--model', 'tiny-bert', '--repeats', '1.5'], ['--repeats']],
    [
      'export: decode mode for a BERT model',
      ['export', '--model', 'tiny-bert', '--mode', 'decode', '--out', join(root, 'never.onnx')],
      ['--mode decode', 'GPT2'],
    ],
  ])('%s', async (_name, argv, names) => {
    await expectFailure(argv, EXIT.usage, ...names);
  });

  it('maps the option errors of the packages to exit 2 and damaged training state to exit 3', () => {
    expect(exitCodeFor(new OptionsError('fineTune.trainSamples', 'must be an integer >= 1, got 0'))).toBe(EXIT.usage);
    expect(exitCodeFor(new EnvironmentError('pastLength', 'must be >= 1 in generation mode, got 0'))).toBe(EXIT.usage);
    expect(exitCodeFor(new TrainingConfigError('learningRate', 'training diverged'))).toBe(EXIT.usage);
    expect(exitCodeFor(new TrainingStateError('steps/x/train/last/trainer-state.json', 'is not valid JSON'))).toBe(EXIT.input);
    expect(exitCodeFor(new RangeError('a bug'))).toBe(EXIT.internal);
  });
});

describe('a refused pipeline option is named by its ziplm flag', () => {
  // The pipeline names an option by its path only (`option calibrationSamples ...`); the CLI adds the flag.
  it('prints "--flag (option path) problem"', async () => {
    const { stderr } = await expectFailure(
      ['prune', '--model', 'tiny-bert', ...fast, '--calibration-samples', '-2', '--run', freshRun()],
      EXIT.usage,
    );
    expect(stderr).toContain('ziplm: --calibration-samples (option calibrationSamples) must be an integer >= 1, got -2\n');
  });

  it('maps the option paths of the runs to their flags', async () => {
    expect(flagOf('calibrationSamples')).toBe('--calibration-samples');
    expect(flagOf('environment.pastLength')).toBe('--past-length');
    expect(flagOf('fineTune.trainSamples')).toBe('--train-samples');
    expect(flagOf('fineTune.learningRate')).toBe('--lr');
    expect(flagOf('variants.weights')).toBe('--lambdas');
    expect(flagOf('tableRounds.maxRounds')).toBeUndefined();
    const refused = await runOneShot({
      modelDir: builtinModelDir('tiny-bert'),
      runDir: freshRun(),
      targets: [2],
      task: 'samples',
      methods: ['ziplm', 'foo' as never],
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OptionsError);
    expect(describeOptionsError(refused as OptionsError)).toBe(
      '--methods (option methods) must be one of ziplm, magnitude, uniform, got "foo"',
    );
    // An option the CLI has no flag for keeps the pipeline's own message.
    expect(describeOptionsError(new OptionsError('tableRounds.maxRounds', 'must be >= minRounds (5), got 2'))).toBe(
      'option tableRounds.maxRounds must be >= minRounds (5), got 2',
    );
  });
});

describe('bad files exit 3 naming the file, and write nothing', () => {
  it('verify --table with a table whose grid lacks a size of the member', async () => {
    // A member of the tiny BERT with 3 heads in layer 0, and a table whose attention grid is 6, 4, 2, 0.
    const dense = await loadCheckpoint(builtinModelDir('tiny-bert'));
    const { layerHeads, layerIntermediate } = dense.config;
    const all = (n: number) => Array.from({ length: n }, (_, i) => i);
    const member = mkdtempSync(join(root, 'member-'));
    await saveCheckpoint(
      member,
      shrinkWeights(dense, { heads: layerHeads.map((h, l) => all(l === 0 ? 3 : h)), neurons: layerIntermediate.map(all) }),
    );
    const summary = (median: number) => ({ median, dispersion: 0.01, relativeError: 0.002, samples: 20 });
    const level = (kept: number, time: number) => ({ kept, time });
    const table: LatencyTable = {
      format: LATENCY_TABLE_FORMAT,
      version: LATENCY_TABLE_VERSION,
      createdAt: '2026-01-01T00:00:00.000Z',
      environment: inferenceEnvironment({ mode: 'latency', sequenceLength: 16 }),
      fingerprint: {
        cpuModel: 'Test CPU',
        logicalCores: 2,
        platform: 'linux',
        arch: 'x64',
        engine: 'onnxruntime-node',
        engineVersion: '0.0.0',
        runtimeVersion: 'node 0',
      },
      model: modelShapeOf(dense.config),
      unit: 'ms',
      dense: summary(10),
      nonPrunable: summary(2),
      prunable: 8,
      blockTiming: { context: 'isolated', overhead: { attention: 0, ffn: 0 }, scale: 1 },
      attention: [level(6, 1), level(4, 0.7), level(2, 0.4), level(0, 0)],
      ffn: [level(192, 1), level(96, 0.5), level(0, 0)],
    };
    const file = join(root, 'grid-table.json');
    await saveLatencyTable(file, table);
    await expectFailure(
      ['verify', '--dense', 'tiny-bert', '--model', member, '--table', file, '--target', '1.2'],
      EXIT.input,
      'no attention time for kept size 3',
      'nearest table levels: 2, 4',
    );
  });

  /** A copy of the tiny BERT with its config.json edited. */
  function tinyBertWith(edit: (config: Record<string, unknown>) => void): string {
    const dir = mkdtempSync(join(root, 'model-'));
    cpSync(builtinModelDir('tiny-bert'), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    edit(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return dir;
  }

  it('a model directory whose config has an unknown model_type', async () => {
    const model = tinyBertWith((c) => (c.model_type = 'roberta'));
    const run = freshRun();
    await expectFailure(['prune', '--model', model, ...fast, '--run', run], EXIT.input, join(model, 'config.json'), 'roberta');
    expect(existsSync(run)).toBe(false);
  });

  it.each([
    ['hidden_size', (c: Record<string, unknown>) => (c.hidden_size = 60)],
    ['num_hidden_layers', (c: Record<string, unknown>) => (c.num_hidden_layers = 5)],
    ['intermediate_size', (c: Record<string, unknown>) => (c.intermediate_size = 96)],
  ])('a model whose config.json disagrees with its weights (%s)', async (_field, edit) => {
    const model = tinyBertWith(edit);
    const run = freshRun();
    await expectFailure(['prune', '--model', model, ...fast, '--run', run], EXIT.input, join(model, 'model.safetensors'));
    expect(existsSync(run)).toBe(false);
  });

  it.each([
    ['a missing latency table', undefined, /ENOENT|not found|no such file|cannot be read/i],
    ['a latency table that is not JSON', '{"format": "ziplm-latency-table",', /JSON/],
  ])('%s', async (_name, text, problem) => {
    const table = join(root, `table-${runs}.json`);
    if (text !== undefined) writeFileSync(table, text);
    await expectFailure(['prune', '--model', 'tiny-bert', ...fast, '--table', table, '--run', freshRun()], EXIT.input, table, problem);
  });

  describe('GLUE data files', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    const TRAIN = 'sentence\tlabel\na fine film\t1\na dull film\t0\nwarm and funny\t1\nflat and slow\t0\n';

    /** A data directory with SST-2's train.tsv (valid) and the given dev.tsv. */
    function dataWithDev(dev: string): string {
      const dir = mkdtempSync(join(root, 'data-'));
      mkdirSync(join(dir, 'glue', 'sst2'), { recursive: true });
      writeFileSync(join(dir, 'glue', 'sst2', 'train.tsv'), TRAIN);
      writeFileSync(join(dir, 'glue', 'sst2', 'dev.tsv'), dev);
      vi.stubEnv('ZIPLM_DATA_DIR', dir);
      return join(dir, 'glue', 'sst2', 'dev.tsv');
    }

    it.each([
      ['an empty dev.tsv', '', /empty file/],
      ['a dev.tsv with only a header', 'sentence\tlabel\n', /no rows after the header/],
      ['a dev.tsv with a missing column', 'sentence\tlabel\ngood\t1\nbad\n', /line 3: expected 2 tab-separated columns/],
      ['a dev.tsv without a label column', 'sentence\tscore\ngood\t1\n', /no column "label"/],
      ['a dev.tsv with an unknown label', 'sentence\tlabel\ngood\tpositive\n', /line 2, column "label": unknown label "positive"/],
    ])('prune and eval with %s', async (_name, dev, problem) => {
      const file = dataWithDev(dev);
      const run = freshRun();
      await expectFailure(['prune', '--model', 'tiny-bert', ...fast, '--task', 'sst2', '--run', run], EXIT.input, file, problem);
      expect(existsSync(run)).toBe(false);
      await expectFailure(['eval', '--model', 'tiny-bert', '--task', 'sst2'], EXIT.input, file, problem);
    });

    it('a missing data file names the file and ZIPLM_DATA_DIR', async () => {
      const dir = mkdtempSync(join(root, 'data-'));
      vi.stubEnv('ZIPLM_DATA_DIR', dir);
      await expectFailure(
        ['eval', '--model', 'tiny-bert', '--task', 'sst2'],
        EXIT.input,
        join(dir, 'glue', 'sst2', 'train.tsv'),
        'ZIPLM_DATA_DIR',
      );
    });
  });
});

describe('untrusted input files: bounded, regular, well-formed (issue 12)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  /** A copy of a built-in model with `edit` applied to its directory. */
  function modelWith(name: 'tiny-bert' | 'tiny-gpt2', edit: (dir: string) => void): string {
    const dir = mkdtempSync(join(root, 'model-'));
    cpSync(builtinModelDir(name), dir, { recursive: true });
    edit(dir);
    return dir;
  }

  const editConfig = (dir: string, change: (config: Record<string, unknown>) => void) => {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    change(config);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  };

  it.each([
    ['num_hidden_layers', 1e9, '<= 1024'],
    ['num_hidden_layers', 2 ** 53, '<= 1024'],
    ['vocab_size', 1e300, '<= 4194304'],
    ['hidden_size', -64, '>= 1'],
    ['intermediate_size', 37.5, 'integer'],
  ])('config.json %s = %s exits 3 naming the field and the bound, at once', async (field, value, bound) => {
    const model = modelWith('tiny-bert', (dir) => editConfig(dir, (c) => (c[field] = value)));
    const started = performance.now();
    await expectFailure(['check', '--model', model], EXIT.input, join(model, 'config.json'), field, bound);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a vocab.txt without [CLS] is refused by check (it said OK and scored 50%)', async () => {
    const model = modelWith('tiny-bert', (dir) => {
      const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').replace('[CLS]\n', '[CLX]\n');
      writeFileSync(join(dir, 'vocab.txt'), vocab);
    });
    await expectFailure(['check', '--model', model], EXIT.input, join(model, 'vocab.txt'), '"[CLS]"');
  });

  it('a vocab.json with a token id of 2^32 exits 3 naming the file and the token', async () => {
    const model = modelWith('tiny-gpt2', (dir) => {
      const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8'));
      vocab.huge = 2 ** 32;
      writeFileSync(join(dir, 'vocab.json'), JSON.stringify(vocab));
    });
    await expectFailure(['check', '--model', model], EXIT.input, join(model, 'vocab.json'), '"huge"', '4294967296');
  });

  it('NaN weights exit 3 naming the tensor (they were exported and scored at 48%)', async () => {
    const dense = await loadCheckpoint(builtinModelDir('tiny-bert'));
    const name = 'bert.encoder.layer.0.output.dense.weight';
    const weights = new Map(dense.weights);
    const data = Float32Array.from(weights.get(name)!.data);
    data[3] = Number.NaN;
    weights.set(name, { shape: weights.get(name)!.shape, data });
    const model = mkdtempSync(join(root, 'nan-'));
    await saveCheckpoint(model, { config: dense.config, weights });
    cpSync(join(builtinModelDir('tiny-bert'), 'vocab.txt'), join(model, 'vocab.txt'));
    const run = freshRun();
    await expectFailure(
      ['prune', '--model', model, ...fast, '--run', run],
      EXIT.input,
      join(model, 'model.safetensors'),
      `"${name}"`,
      'NaN',
    );
    expect(existsSync(run)).toBe(false);
  });

  it('an all-zero latency table exits 3 naming the entry', async () => {
    const dense = await loadCheckpoint(builtinModelDir('tiny-bert'));
    const zero = { median: 0, dispersion: 0, relativeError: 0, samples: 20 };
    const { numHeads, intermediateSize } = dense.config;
    const table = {
      format: LATENCY_TABLE_FORMAT,
      version: LATENCY_TABLE_VERSION,
      createdAt: '2026-01-01T00:00:00.000Z',
      environment: inferenceEnvironment({ mode: 'latency', sequenceLength: 16 }),
      fingerprint: {
        cpuModel: 'Test CPU',
        logicalCores: 2,
        platform: 'linux',
        arch: 'x64',
        engine: 'onnxruntime-node',
        engineVersion: '0.0.0',
        runtimeVersion: 'node 0',
      },
      model: modelShapeOf(dense.config),
      unit: 'ms',
      dense: zero,
      nonPrunable: zero,
      prunable: 0,
      blockTiming: { context: 'isolated', overhead: { attention: 0, ffn: 0 }, scale: 1 },
      attention: [numHeads, 0].map((kept) => ({ kept, time: 0 })),
      ffn: [intermediateSize, 0].map((kept) => ({ kept, time: 0 })),
    };
    const file = join(root, 'zero-table.json');
    writeFileSync(file, JSON.stringify(table));
    const run = freshRun();
    await expectFailure(['prune', '--model', 'tiny-bert', ...fast, '--table', file, '--run', run], EXIT.input, file, 'dense.median');
  });

  describe('data files', () => {
    const SST2 = 'sentence\tlabel\na fine film\t1\na dull film\t0\nwarm and funny\t1\nflat and slow\t0\n';

    /** A data directory with SST-2's train.tsv and dev.tsv made by `make` (given the path). */
    function dataWith(make: (file: string) => void): string {
      const dir = mkdtempSync(join(root, 'data-'));
      mkdirSync(join(dir, 'glue', 'sst2'), { recursive: true });
      writeFileSync(join(dir, 'glue', 'sst2', 'train.tsv'), SST2);
      const dev = join(dir, 'glue', 'sst2', 'dev.tsv');
      make(dev);
      vi.stubEnv('ZIPLM_DATA_DIR', dir);
      return dev;
    }

    it('a dev.tsv that is a symlink to /dev/zero exits 3 at once (it grew without bound)', async () => {
      const dev = dataWith((file) => symlinkSync('/dev/zero', file));
      await expectFailure(['eval', '--model', 'tiny-bert', '--task', 'sst2'], EXIT.input, dev, 'not a regular file');
    });

    it.skipIf(process.platform === 'win32')('a dev.tsv that is a FIFO exits 3 at once (it blocked forever)', async () => {
      const dev = dataWith((file) => execFileSync('mkfifo', [file]));
      await expectFailure(['eval', '--model', 'tiny-bert', '--task', 'sst2'], EXIT.input, dev, 'FIFO');
    });

    it('a 2 MB TSV line exits 3 naming the line limit and how to raise it', async () => {
      const dev = dataWith((file) => writeFileSync(file, `sentence\tlabel\n${'x'.repeat(2 * 1024 * 1024)}\t1\n`));
      await expectFailure(['eval', '--model', 'tiny-bert', '--task', 'sst2'], EXIT.input, dev, 'line 2', 'ZIPLM_MAX_LINE_BYTES');
    });

    it('--max-input-mb sets the file limit and names itself in the message; a bad value exits 2', async () => {
      // 256 KiB of rows against a limit of 0.1 MiB (104858 bytes; the model's own files are smaller).
      const dev = dataWith((file) => writeFileSync(file, `sentence\tlabel\n${'a fine film\t1\n'.repeat(20_000)}`));
      await expectFailure(
        ['eval', '--model', 'tiny-bert', '--task', 'sst2', '--max-input-mb', '0.1'],
        EXIT.input,
        dev,
        'input limit of 104858 bytes',
        '--max-input-mb',
      );
      await expectFailure(['eval', '--model', 'tiny-bert', '--task', 'sst2', '--max-input-mb', '0'], EXIT.usage, '--max-input-mb');
    });

    /** WikiText with `n` articles, lines joined by `eol`. */
    const wikiText = (n: number, eol: string) =>
      Array.from({ length: n }, (_, k) =>
        [` = Article ${k} = `, '', ` Text of article ${k} , long enough to fill a chunk of tokens . `.repeat(20), ''].join(eol),
      ).join(eol);

    function wikiData(text: string): void {
      const dir = mkdtempSync(join(root, 'data-'));
      mkdirSync(join(dir, 'wikitext-2-raw'));
      writeFileSync(join(dir, 'wikitext-2-raw', 'wiki.test.raw'), text);
      vi.stubEnv('ZIPLM_DATA_DIR', dir);
    }

    it('WikiText with CRLF line endings scores like LF (it overflowed the stack)', async () => {
      wikiData(wikiText(20, '\n'));
      const lf = await runCli(['eval', '--model', 'tiny-gpt2', '--task', 'wikitext', '--json']);
      expect(lf.code, lf.stderr).toBe(EXIT.ok);
      wikiData(`\ufeff${wikiText(20, '\r\n')}`);
      const crlf = await runCli(['eval', '--model', 'tiny-gpt2', '--task', 'wikitext', '--json']);
      expect(crlf.code, crlf.stderr).toBe(EXIT.ok);
      expect(JSON.parse(crlf.stdout).value).toBe(JSON.parse(lf.stdout).value);
    });

    it.each([
      ['no headings', 'plain text without any heading\nmore text\n'],
      ['3 articles', wikiText(3, '\n')],
    ])('WikiText with %s exits 3 naming the minimum (it exited 1)', async (_name, text) => {
      wikiData(text);
      await expectFailure(['eval', '--model', 'tiny-gpt2', '--task', 'wikitext'], EXIT.input, 'at least 10');
    });
  });
});
