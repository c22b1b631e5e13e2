// `ziplm prune --model <dir>` on the real Hugging Face fixtures (issue 16; ../shared/fixtures/hf, read in place):
// BERT and DistilBERT sequence classifiers, GPT2 and LLaMA (grouped-query attention) language models, each
// given once as its safetensors checkpoint and once as a transformers.js / Optimum ONNX export (config.json,
// tokenizer.json and onnx/model.onnx only). The CLI names the layout it detected, one-shot ZipLM runs end to
// end, the members load back, and their graphs pass the reference ONNX checker (python3-onnx, skipped with a
// message when absent).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataDir, loadModelDir } from '@ziplm/models';
import { describe, expect, it } from 'vitest';
import { pythonWithOnnx } from '@ziplm/test-utils';
import { EXIT } from '../../src/exit-codes.js';
import { runCli } from '../run-cli.js';

const fixturesDir = resolve(dataDir(), '..', 'fixtures', 'hf');
const FIXTURES = ['bert-tiny-seqcls', 'distilbert-tiny-seqcls', 'gpt2-tiny-lm', 'llama-tiny-lm'] as const;
const skip = FIXTURES.every((name) => existsSync(join(fixturesDir, name, 'config.json')))
  ? undefined
  : `skipped: the Hugging Face fixtures are absent from ${fixturesDir} (read beside $ZIPLM_DATA_DIR, default ../shared/data)`;

const checkScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'scripts', 'onnx-check.py');
const python = pythonWithOnnx();

const work = mkdtempSync(join(tmpdir(), 'ziplm-cli-hf-'));

/** The fixture as a transformers.js / Optimum directory: config.json, tokenizer files and onnx/model.onnx, no safetensors. */
function onnxLayout(name: string): string {
  const dir = join(work, `${name}-onnx`);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    symlinkSync(join(fixturesDir, name, file), join(dir, file));
  symlinkSync(join(fixturesDir, name, 'onnx', 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  return dir;
}

describe.skipIf(skip !== undefined)(`ziplm prune on the Hugging Face fixtures${skip ? ` (${skip})` : ''}`, () => {
  for (const name of FIXTURES) {
    for (const layout of ['safetensors', 'onnx'] as const) {
      it(`${name} (${layout})`, { timeout: 300_000 }, async () => {
        const model = layout === 'safetensors' ? join(fixturesDir, name) : onnxLayout(name);
        const run = join(work, `${name}-${layout}-run`);
        const args = ['prune', '--model', model, '--task', 'samples', '--targets', '1.5', '--calibration-samples', '16'];
        const { code, stdout, stderr } = await runCli([...args, '--no-spdy', '--engine', 'js', '--retarget', '0', '--run', run]);
        expect(stderr).not.toContain('internal error');
        // A member whose re-timed speedup misses on a busy machine exits 5 (check failed): the run itself worked.
        expect([EXIT.ok, EXIT.checkFailed], `${stdout}\n${stderr}`).toContain(code);
        expect(stderr).toMatch(
          layout === 'safetensors'
            ? /detected Hugging Face checkpoint \(model\.safetensors/
            : /detected transformers\.js \/ Optimum ONNX export \(onnx\/model\.onnx\)/,
        );
        const members = readdirSync(join(run, 'members'));
        expect(members.length).toBeGreaterThan(0);
        const dense = await loadModelDir(join(fixturesDir, name));
        for (const member of members) {
          const dir = join(run, 'members', member);
          const { checkpoint } = await loadModelDir(dir);
          expect(checkpoint.config.modelType).toBe(dense.checkpoint.config.modelType);
          if (python) {
            const check = spawnSync(python, [checkScript, join(dir, 'model.onnx')], { encoding: 'utf8' });
            expect(check.status, `${dir}/model.onnx: ${check.stdout}${check.stderr}`).toBe(0);
          }
        }
      });
    }
  }
  it.skipIf(python !== undefined)('onnx checker: skipped (no python3 with the onnx package; apt-get install python3-onnx)', () => {});
});
