// The demo page's logic without a browser (the page itself runs in test/e2e/demo-page.test.ts): its
// manifest, the SHA-256 check of every download, the tokenizer rebuilt from the shipped vocabulary, the
// fixed-length feeds, the prediction and the interleaved timing, and the choice of threads and backend.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { padBatch } from '@ziplm/models/data';
import { loadTokenizer, WordPieceTokenizer } from '@ziplm/models/tokenizers';
import { describe, expect, it } from 'vitest';
import {
  demoTokenizer,
  encodeFixedLength,
  predict,
  runsPerSampleFor,
  softmax,
  type TimedRunner,
  timeInterleaved,
} from '../browser/classify.ts';
import { type DemoManifest, DemoManifestError, parseDemoManifest } from '../browser/demo-manifest.ts';
import { probeWebGpu, timerResolutionMs, wasmThreadCount } from '../browser/ort-web.ts';
import { AssetIntegrityError, checkAsset, fetchVerified, sha256Hex } from '../browser/verified-fetch.ts';
import { DEMO_PRUNE_ARGS, demoTokenizerOptions, TEACHER_DIR } from '../scripts/browser-assets.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
// SHA-256("abc"), FIPS 180-2 appendix B.1.
const ABC_SHA256 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

function validManifest(): DemoManifest {
  const model = (name: string, target: number | null) => ({
    name,
    target,
    predictedSpeedup: target,
    measuredSpeedup: target,
    metric: 80,
    layerHeads: [4, 4],
    layerIntermediate: [512, 16],
    onnx: { file: `${name}.onnx`, bytes: 10, sha256: ABC_SHA256 },
  });
  return {
    format: 'ziplm-browser-demo',
    version: 1,
    model: 'sst2-bert',
    task: 'sst2',
    labels: ['negative', 'positive'],
    sequenceLength: 8,
    metricLabel: 'SST-2 dev accuracy (%)',
    metricItems: 872,
    pruneCommand: 'ziplm prune --model sst2-bert',
    nodeEnvironment: 'onnxruntime-node 2 threads opt=all latency 1x128',
    vocabulary: { file: 'vocab.json', bytes: 3, sha256: ABC_SHA256 },
    tokenizer: {
      lowercase: true,
      stripAccents: true,
      handleChineseChars: true,
      cleanText: true,
      unkToken: '[UNK]',
      clsToken: '[CLS]',
      sepToken: '[SEP]',
      padToken: '[PAD]',
      maskToken: '[MASK]',
      continuingSubwordPrefix: '##',
      maxInputCharsPerWord: 100,
    },
    models: [model('dense', null), model('ziplm-2.00x', 2)],
  };
}

describe('demo manifest', () => {
  it('accepts what browser-assets writes and returns it unchanged', () => {
    expect(parseDemoManifest(JSON.parse(JSON.stringify(validManifest())))).toEqual(validManifest());
  });

  it.each([
    ['another format', (m: Record<string, unknown>) => Object.assign(m, { format: 'ziplm-run' }), /not a ziplm-browser-demo version 1/],
    [
      'a file outside its folder',
      (m: Record<string, unknown>) => Object.assign(m, { vocabulary: { file: '../x', bytes: 3, sha256: ABC_SHA256 } }),
      /vocabulary\.file/,
    ],
    [
      'an upper-case digest',
      (m: Record<string, unknown>) => Object.assign(m, { vocabulary: { file: 'v.json', bytes: 3, sha256: ABC_SHA256.toUpperCase() } }),
      /sha256/,
    ],
    ['no member', (m: Record<string, unknown>) => Object.assign(m, { models: (m.models as unknown[]).slice(0, 1) }), /at least one member/],
    [
      'a member first',
      (m: Record<string, unknown>) => Object.assign(m, { models: [...(m.models as unknown[])].reverse() }),
      /start with the dense model/,
    ],
    [
      'a missing tokenizer flag',
      (m: Record<string, unknown>) => Object.assign(m, { tokenizer: { ...(m.tokenizer as object), lowercase: 'yes' } }),
      /tokenizer\.lowercase/,
    ],
  ])('rejects %s', (_, spoil, message) => {
    const json = JSON.parse(JSON.stringify(validManifest())) as Record<string, unknown>;
    expect(() => parseDemoManifest(spoil(json))).toThrow(DemoManifestError);
    expect(() => parseDemoManifest(spoil(JSON.parse(JSON.stringify(validManifest()))))).toThrow(message);
  });
});

describe('verified downloads (Web Crypto)', () => {
  const asset = { file: 'abc.txt', bytes: 3, sha256: ABC_SHA256 };

  it('hashes with SHA-256', async () => {
    expect(await sha256Hex(bytes('abc'))).toBe(ABC_SHA256);
  });

  it('passes the right bytes and names the file when the size or the digest differs', async () => {
    await expect(checkAsset(bytes('abc').buffer, asset, 'abc.txt')).resolves.toBeUndefined();
    await expect(checkAsset(bytes('abcd').buffer, asset, 'abc.txt')).rejects.toThrow(/abc\.txt: 4 bytes, the manifest says 3/);
    await expect(checkAsset(bytes('abd').buffer, asset, 'abc.txt')).rejects.toThrow(AssetIntegrityError);
  });

  it('fetches next to the manifest and refuses an HTTP error or a changed file', async () => {
    const served: Record<string, string> = { 'https://site/demo/abc.txt': 'abc' };
    const fake = (async (url: string | URL | Request) => {
      const body = served[String(url)];
      return body === undefined ? new Response('no', { status: 404 }) : new Response(body);
    }) as typeof fetch;
    expect(new TextDecoder().decode(await fetchVerified('https://site/demo/', asset, fake))).toBe('abc');
    await expect(fetchVerified('https://site/other/', asset, fake)).rejects.toThrow(/HTTP 404/);
    served['https://site/demo/abc.txt'] = 'abd';
    await expect(fetchVerified('https://site/demo/', asset, fake)).rejects.toThrow(/SHA-256/);
  });
});

describe('classification', () => {
  it('the tokenizer rebuilt from the shipped vocabulary and settings encodes as the teacher’s own', async () => {
    const teacher = await loadTokenizer(TEACHER_DIR, 'bert');
    if (!(teacher instanceof WordPieceTokenizer)) throw new Error('expected WordPiece');
    const rebuilt = demoTokenizer(JSON.parse(JSON.stringify(teacher.vocabulary())), demoTokenizerOptions(teacher, TEACHER_DIR));
    for (const text of ['A gripping, beautifully acted film!', 'Café crème — naïve 東京 zxqvbnm [MASK] x'.repeat(3), '']) {
      expect(rebuilt.encode(text)).toEqual(teacher.encode(text));
    }
  });

  it('pads to the table’s length as padBatch does, and truncates a long text', async () => {
    const teacher = await loadTokenizer(TEACHER_DIR, 'bert');
    if (!(teacher instanceof WordPieceTokenizer)) throw new Error('expected WordPiece');
    const short = encodeFixedLength(teacher, 'a fine film', 16);
    const batch = padBatch([teacher.encode('a fine film', undefined, { maxLength: 16 })], { padId: teacher.padId, seqLength: 16 });
    expect(Array.from(short.inputIds, Number)).toEqual([...batch.inputIds]);
    expect(Array.from(short.attentionMask, Number)).toEqual([...batch.attentionMask]);
    expect(Array.from(short.tokenTypeIds, Number)).toEqual([...batch.tokenTypeIds]);
    expect(short).toMatchObject({ tokens: 5, truncated: false });
    const long = encodeFixedLength(teacher, 'word '.repeat(40), 16);
    expect(long).toMatchObject({ tokens: 16, truncated: true });
    expect(long.inputIds[15]).toBe(BigInt(teacher.sepId!));
  });

  it('predicts the argmax with its softmax probability', () => {
    const [p0, p1] = softmax([0, Math.log(3)]);
    expect(p0).toBeCloseTo(0.25, 12);
    expect(p1).toBeCloseTo(0.75, 12);
    expect(softmax([1000, 1000])).toEqual([0.5, 0.5]); // no overflow
    expect(predict(new Float32Array([2, -1]), ['negative', 'positive'])).toMatchObject({ labelId: 0, label: 'negative' });
    expect(predict([1, 1], ['a', 'b']).label).toBe('a');
    expect(() => predict([1, 2, 3], ['a', 'b'])).toThrow(RangeError);
  });
});

describe('interleaved timing', () => {
  /** Runners on a fake clock: each run advances it by the runner's cost. */
  function fakeRunners(costs: Record<string, number[]>): { runners: TimedRunner[]; order: string[]; now: () => number } {
    let clock = 0;
    const order: string[] = [];
    const calls: Record<string, number> = {};
    const runners = Object.entries(costs).map(([name, cost]) => ({
      name,
      run: async () => {
        const i = calls[name] ?? 0;
        calls[name] = i + 1;
        clock += cost[i % cost.length]!;
        order.push(name);
      },
    }));
    return { runners, order, now: () => clock };
  }

  it('warms every model up, then interleaves them round by round, and takes the median per model', async () => {
    const { runners, order, now } = fakeRunners({ dense: [9, 10, 11, 50], member: [2] });
    const timings = await timeInterleaved(runners, { rounds: 3, runsPerSample: 1, budgetMs: 1e9, minRounds: 1, now });
    expect(order).toEqual(['dense', 'member', 'dense', 'member', 'dense', 'member', 'dense', 'member']);
    // Warm-up took dense's 9; the samples are 10, 11, 50: the median ignores the outlier.
    expect(timings).toEqual([
      { name: 'dense', medianMs: 11, samplesMs: [10, 11, 50] },
      { name: 'member', medianMs: 2, samplesMs: [2, 2, 2] },
    ]);
  });

  it('averages runsPerSample runs per sample, stops at the budget after minRounds, and on cancel', async () => {
    const a = fakeRunners({ m: [1, 3] });
    expect(
      (await timeInterleaved(a.runners, { rounds: 5, runsPerSample: 2, budgetMs: 1e9, minRounds: 1, now: a.now }))![0]!.samplesMs,
    ).toEqual([2, 2, 2, 2, 2]);
    const b = fakeRunners({ m: [10] });
    expect(
      (await timeInterleaved(b.runners, { rounds: 50, runsPerSample: 1, budgetMs: 25, minRounds: 4, now: b.now }))![0]!.samplesMs,
    ).toHaveLength(4);
    const c = fakeRunners({ m: [1] });
    let rounds = 0;
    const cancelled = () => ++rounds >= 2;
    expect(
      await timeInterleaved(c.runners, { rounds: 50, runsPerSample: 1, budgetMs: 1e9, minRounds: 5, now: c.now, cancelled }),
    ).toBeNull();
  });

  it('repeats fast models enough to outlast a coarse clock', () => {
    expect(runsPerSampleFor(0.5, 5)).toBe(10);
    expect(runsPerSampleFor(20, 5)).toBe(1);
    expect(runsPerSampleFor(0.001, 5)).toBe(32);
    expect(runsPerSampleFor(0, 5)).toBe(32);
  });
});

describe('runtime choices', () => {
  it('threads: one without isolation, else the request or one per core up to 4', () => {
    expect(wasmThreadCount(false, 8, 4)).toBe(1);
    expect(wasmThreadCount(true, 2)).toBe(2);
    expect(wasmThreadCount(true, 16)).toBe(4);
    expect(wasmThreadCount(true, 16, 1)).toBe(1);
    expect(wasmThreadCount(true, 2, 0)).toBe(2);
    expect(wasmThreadCount(true, 2, 1.5)).toBe(2);
  });

  it('measures the clock’s step', () => {
    // A clock that advances 30 µs per read but shows only whole 100 µs steps.
    let reads = 0;
    const coarse = () => {
      reads++;
      return Math.floor((reads * 0.03) / 0.1) * 0.1;
    };
    expect(timerResolutionMs(100, coarse)).toBeCloseTo(0.1, 9);
  });

  it('probes WebGPU without throwing, and names a software adapter', async () => {
    expect(await probeWebGpu({})).toMatchObject({ available: false, reason: expect.stringContaining('no navigator.gpu') });
    expect(await probeWebGpu({ gpu: { requestAdapter: async () => null } })).toMatchObject({ available: false });
    expect(
      await probeWebGpu({
        gpu: { requestAdapter: async () => ({ info: { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true } }) },
      }),
    ).toEqual({ available: true, adapter: 'google swiftshader', software: true });
    expect(
      await probeWebGpu({
        gpu: {
          requestAdapter: async () => {
            throw new Error('denied');
          },
        },
      }),
    ).toMatchObject({ available: false, reason: expect.stringContaining('denied') });
  });
});

describe('the demo page', () => {
  it('shows the prune command that made its members', () => {
    const page = readFileSync(join(import.meta.dirname, '../demo.md'), 'utf8');
    expect(page).toContain(`ziplm prune --model sst2-bert ${DEMO_PRUNE_ARGS.join(' ')}`);
  });
});
