// Option checks of the pipeline: an invalid option is an OptionsError naming the option (and its
// `ziplm` flag) before anything is loaded or written; a damaged member record read back on resume is
// a RunDirectoryError naming the file.

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { OptionsError, RunDirectoryError } from '../src/errors.js';
import { checkGradualOptions, runGradual } from '../src/gradual.js';
import { readMemberRecord as readMember } from '../src/stages/members.js';
import { runOneShot } from '../src/oneshot.js';
import type { RunOptions } from '../src/context.js';
import { checkRunOptions } from '../src/run.js';

const root = mkdtempSync(join(tmpdir(), 'ziplm-options-'));
const base: RunOptions = { modelDir: builtinModelDir('tiny-bert'), runDir: join(root, 'run'), targets: [2], task: 'samples' };

function optionsError(fn: () => unknown): OptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionsError);
    return error as OptionsError;
  }
  throw new Error('expected an OptionsError');
}

describe('run options', () => {
  it.each([
    ['targets', { targets: [] }, 'targets', /at least one/],
    ['a target of 1', { targets: [2, 1] }, 'targets', /> 1, got 1/],
    ['an unknown task', { task: 'mnli' as never }, 'task', /sst2, qnli/],
    ['zero calibration samples', { calibrationSamples: 0 }, 'calibrationSamples', />= 1, got 0/],
    ['a fractional evaluation limit', { evalLimit: 2.5 }, 'evalLimit', /integer/],
    ['a negative tolerance', { tolerance: -0.1 }, 'tolerance', />= 0/],
    ['an unknown engine', { engine: 'gpu' as never }, 'engine', /onnxruntime, js/],
    ['negative SPDY steps', { spdy: { steps: -1 } }, 'spdy.steps', />= 0/],
    ['a batch of 4 in latency mode', { environment: { mode: 'latency', batchSize: 4 } }, 'environment.batchSize', /latency mode/],
    ['no KV cache in generation mode', { environment: { mode: 'generation', pastLength: 0 } }, 'environment.pastLength', />= 1/],
    ['fewer maximum than minimum table rounds', { tableRounds: { minRounds: 5, maxRounds: 2 } }, 'tableRounds.maxRounds', /minRounds/],
  ] satisfies [string, Partial<RunOptions>, string, RegExp][])('%s', (_name, patch, option, problem) => {
    const error = optionsError(() => checkRunOptions({ ...base, ...patch }));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
  });

  it('names the option path (the CLI maps it to its flag)', () => {
    const error = optionsError(() => checkRunOptions({ ...base, calibrationSamples: -2 }));
    expect(error.option).toBe('calibrationSamples');
    expect(error.message).toBe('option calibrationSamples must be an integer >= 1, got -2');
    expect(optionsError(() => checkRunOptions({ ...base, environment: { mode: 'generation', pastLength: 0 } })).option).toBe(
      'environment.pastLength',
    );
  });

  it('accepts the defaults and returns the targets ascending without duplicates', () => {
    expect(checkRunOptions({ ...base, targets: [3, 1.5, 3] }).targets).toEqual([1.5, 3]);
  });

  it('gradual: fine-tuning options and variants', () => {
    const gradual = (patch: object) => () => checkGradualOptions({ ...base, ...patch });
    expect(optionsError(gradual({ fineTune: { trainSamples: 0 } })).option).toBe('fineTune.trainSamples');
    expect(optionsError(gradual({ fineTune: { epochs: 0 } })).option).toBe('fineTune.epochs');
    expect(optionsError(gradual({ fineTune: { learningRate: Number.NaN } })).option).toBe('fineTune.learningRate');
    expect(optionsError(gradual({ fineTune: { warmupRatio: 1 } })).option).toBe('fineTune.warmupRatio');
    expect(optionsError(gradual({ variants: [{ name: 'a' }, { name: 'a' }] })).option).toBe('variants');
    expect(optionsError(gradual({ variants: [{ weights: { token: -1 } }] })).option).toBe('variants.weights');
  });

  it('a refused run writes nothing, not even the run directory', async () => {
    const runDir = join(root, 'refused');
    await expect(runOneShot({ ...base, runDir, methods: ['ziplm', 'foo' as never] })).rejects.toThrow(
      /option methods must be one of ziplm, magnitude, uniform, got "foo"/,
    );
    await expect(runGradual({ ...base, runDir, fineTune: { trainSamples: 0 } })).rejects.toBeInstanceOf(OptionsError);
    // Checked once the model is loaded, still before the run directory is opened.
    await expect(runGradual({ ...base, runDir, variants: [{ weights: { task: 0, logit: 0, token: 0 } }] })).rejects.toThrow(
      /at least one positive loss weight/,
    );
    await expect(runOneShot({ ...base, runDir, environment: { mode: 'generation' } })).rejects.toThrow(/needs a decoder \(GPT2 or LLaMA\)/);
    expect(existsSync(runDir)).toBe(false);
  });
});

describe('member records read back on resume', () => {
  const member = (record: string) => {
    const dir = mkdtempSync(join(root, 'member-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'member.json'), record);
    return dir;
  };
  const good = {
    method: 'ziplm',
    target: 2,
    predictedSpeedup: 2.01,
    searchError: 0.1,
    layerHeads: [2, 2],
    layerIntermediate: [8, 8],
    layerParameters: 100,
    dir: 'members/ziplm-2.00x',
    keptHeads: [
      [0, 1],
      [2, 3],
    ],
    keptNeurons: [[0], [1]],
  };

  it('reads a complete record, with or without verification diagnostics', async () => {
    expect(await readMember(member(JSON.stringify(good)))).toEqual(good);
    const verified = {
      ...good,
      measuredSpeedup: 2.03,
      verification: { uncertainty: 0.004, predictionError: 0.01, denseDrift: -0.02, denseMs: 3.1, memberMs: 1.5, rounds: 24 },
    };
    expect(await readMember(member(JSON.stringify(verified)))).toEqual(verified);
    expect(await readMember(join(root, 'no-such-member'))).toBeUndefined();
  });

  it.each([
    ['not JSON', '{"method": "ziplm",', /not valid JSON/],
    ['no kept heads', JSON.stringify({ ...good, keptHeads: undefined }), /"keptHeads" must be an array/],
    [
      'a bad verification',
      JSON.stringify({ ...good, verification: { uncertainty: 0.01, denseMs: 0, memberMs: 1, rounds: 3 } }),
      /"verification.denseMs" must be a finite number > 0/,
    ],
  ])('%s is a RunDirectoryError naming the file', async (_name, text, problem) => {
    const dir = member(text);
    const error = await readMember(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDirectoryError);
    expect((error as Error).message).toContain(join(dir, 'member.json'));
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toContain('to recompute this member');
  });
});
