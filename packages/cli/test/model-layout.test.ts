// `--model` takes a Hugging Face checkpoint or a transformers.js / Optimum ONNX export, and the command says which
// layout it detected (one stage line on stderr, a `stage` event with --json). The ONNX-layout directory is made of
// links to the BERT fixture's config, tokenizer and onnx/model.onnx (../shared/fixtures/hf, read in place).

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dataDir } from '@ziplm/models/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { modelLayoutLine } from '../src/util.js';
import { runCli } from './run-cli.js';

const fixture = resolve(dataDir(), '..', 'fixtures', 'hf', 'bert-tiny-seqcls');
const skip = existsSync(join(fixture, 'onnx', 'model.onnx')) ? undefined : `skipped: Hugging Face fixture ${fixture} is absent`;

let root: string;
let onnxDir: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ziplm-cli-layout-'));
  onnxDir = join(root, 'bert-onnx');
  await mkdir(join(onnxDir, 'onnx'), { recursive: true });
  if (skip !== undefined) return;
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', join('onnx', 'model.onnx')]) {
    await symlink(join(fixture, f), join(onnxDir, f));
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(skip !== undefined)(`--model layouts${skip ? ` (${skip})` : ''}`, () => {
  it('check --model <transformers.js layout> says what it detected and runs the model', async () => {
    const { code, stderr, stdout } = await runCli(['check', '--model', onnxDir, '--repeats', '1']);
    expect(code, stderr).toBe(EXIT.ok);
    expect(stderr).toBe(`- model ${onnxDir}: detected transformers.js / Optimum ONNX export (${join('onnx', 'model.onnx')})\n`);
    expect(stdout).toContain('parity');
  });

  it('with --json the line is a stage event', async () => {
    const { code, stderr } = await runCli(['check', '--model', onnxDir, '--repeats', '1', '--json']);
    expect(code, stderr).toBe(EXIT.ok);
    const events = stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ event: 'stage', message: expect.stringContaining('transformers.js / Optimum ONNX export') });
  });

  it('a Hugging Face checkpoint with an ONNX export beside it: safetensors preferred, and said', () => {
    expect(modelLayoutLine(fixture)).toBe(
      `model ${fixture}: detected Hugging Face checkpoint (model.safetensors; preferred over the ONNX export ${join('onnx', 'model.onnx')} beside it)`,
    );
  });

  it('a directory with no weights gets no line (loading it says what is missing)', () => {
    expect(modelLayoutLine(root)).toBeUndefined();
  });
});
