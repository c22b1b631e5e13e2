// Tutorial 9 (tutorials/transformers-js.md): in a fresh directory holding distilbert-sst2/, the DistilBERT fixture
// of ../shared/fixtures/hf in the transformers.js layout (what a user downloads from the Hub: config.json,
// tokenizer files, onnx/model.onnx and onnx/model_quantized.onnx, no safetensors), runs every `pnpm ziplm` line of
// tutorials/transformers-js.sh in order, then the tutorial's program tutorials/transformers-js.mjs with Node, and
// checks what the page promises: ziplm reads the ONNX export, the members are transformers.js model directories,
// and transformers.js labels every sentence as onnxruntime-node does on the member's own graph.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT } from '@ziplm/cli';
import { dataDir, hasData, loadModelDir, onnxFeeds, ONNX_NAMES, padBatch } from '@ziplm/models';
import { createSession, loadOrt } from '@ziplm/onnx/runtime';
import { describe, expect, it } from 'vitest';
import { readScript, runZiplm } from '../cli-script.ts';

const fixture = resolve(dataDir(), '..', 'fixtures', 'hf', 'distilbert-tiny-seqcls');
const skip = !existsSync(join(fixture, 'onnx', 'model.onnx'))
  ? `skipped: the DistilBERT fixture ${fixture} is absent (read beside $ZIPLM_DATA_DIR, default ../shared/data)`
  : !hasData('glue/sst2/train.tsv', 'glue/sst2/dev.tsv')
    ? 'skipped: SST-2 is absent from $ZIPLM_DATA_DIR (default ../shared/data)'
    : undefined;

// The commands run in a temporary directory: give them the data directory as an absolute path.
process.env.ZIPLM_DATA_DIR = resolve(dataDir());

const script = readScript(join(import.meta.dirname, '../../tutorials/transformers-js.sh'));
const program = join(import.meta.dirname, '../../tutorials/transformers-js.mjs');
const SENTENCES = ['A warm, funny film.', 'The acting was bleak and the plot slow.', 'Hello world!'];

/** The fixture as the Hub serves a transformers.js model (no model.safetensors). */
function downloadedModel(cwd: string): void {
  const dir = join(cwd, 'distilbert-sst2');
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) symlinkSync(join(fixture, file), join(dir, file));
  for (const file of ['model.onnx', 'model_quantized.onnx']) symlinkSync(join(fixture, 'onnx', file), join(dir, 'onnx', file));
}

/** Labels onnxruntime-node gives `graph` of model directory `dir` for the sentences, with ziplm's own tokenizer. */
async function onnxruntimeLabels(dir: string, graph: string): Promise<string[]> {
  const { checkpoint, tokenizer } = await loadModelDir(dir);
  const config = checkpoint.config;
  if (config.modelType !== 'bert' || config.head.type !== 'classification') throw new Error(`${dir} is not a classifier`);
  const batch = padBatch(
    SENTENCES.map((s) => tokenizer.encode(s)),
    { padId: tokenizer.padId },
  );
  const ort = await loadOrt();
  const session = await createSession(new Uint8Array(readFileSync(join(dir, graph))));
  try {
    const out = await session.run(onnxFeeds(ort, config, batch));
    const logits = out[ONNX_NAMES.logits]!.data as Float32Array;
    const labels = config.head.labels;
    return SENTENCES.map((_, i) => {
      const row = Array.from(logits.subarray(i * labels.length, (i + 1) * labels.length));
      return labels[row.indexOf(Math.max(...row))]!;
    });
  } finally {
    await session.release();
  }
}

describe.skipIf(skip !== undefined)(`tutorial 9: prune a transformers.js model${skip ? ` (${skip})` : ''}`, () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ziplm-docs-t9-'));

  it('has the commands the page shows, in its regions', () => {
    expect(script.map((c) => c.region)).toEqual(['check', 'prune', 'prune-int8']);
  });

  it('prunes the ONNX export, and transformers.js runs the members as ziplm does', { timeout: 600_000 }, async () => {
    downloadedModel(cwd);
    for (const command of script) {
      const result = await runZiplm(command.argv, cwd);
      // `prune` re-times its members: on a busy CI machine a small model's speedup can miss (exit 5).
      const allowed: number[] = command.region === 'check' ? [EXIT.ok] : [EXIT.ok, EXIT.checkFailed];
      expect(allowed, `${command.line}\n${result.stdout}\n${result.stderr}`).toContain(result.code);
      expect(result.stderr).toContain('detected transformers.js / Optimum ONNX export (onnx/model.onnx)');
      if (command.region === 'check') expect(result.stdout).toMatch(/DistilBERT, 2 layers/);
    }
    // Every member is a transformers.js model directory; the INT8 one also has its quantized graph.
    for (const member of ['runs/distilbert/members/ziplm-2.00x', 'runs/distilbert-int8/members/ziplm-3.00x']) {
      for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'])
        expect(existsSync(join(cwd, member, file)), `${member}/${file}`).toBe(true);
    }
    expect(existsSync(join(cwd, 'runs/distilbert-int8/members/ziplm-3.00x/onnx/model_quantized.onnx'))).toBe(true);

    const run = spawnSync(process.execPath, [program], { cwd, encoding: 'utf8', timeout: 300_000 });
    expect(run.status, `node ${program}\n${run.stderr}`).toBe(0);
    const printed = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { model: string; labels: string[]; scores: number[]; ms: number });
    expect(printed.map((p) => p.model)).toEqual(['dense', 'ziplm 2x', 'ziplm 3x int8']);
    const expected = {
      dense: await onnxruntimeLabels(join(cwd, 'distilbert-sst2'), 'onnx/model.onnx'),
      'ziplm 2x': await onnxruntimeLabels(join(cwd, 'runs/distilbert/members/ziplm-2.00x'), 'onnx/model.onnx'),
      'ziplm 3x int8': await onnxruntimeLabels(join(cwd, 'runs/distilbert-int8/members/ziplm-3.00x'), 'onnx/model_quantized.onnx'),
    };
    for (const p of printed) {
      expect(p.labels, p.model).toEqual(expected[p.model as keyof typeof expected]);
      expect(p.ms).toBeGreaterThan(0);
    }
  });
});
