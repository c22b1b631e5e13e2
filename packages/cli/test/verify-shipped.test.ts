// `ziplm verify` checks the files the user deploys: a member's model.onnx is checked against the size
// and sha256 its member.json recorded before it is timed (it is timed as shipped, never re-exported),
// so a truncated or replaced model.onnx is exit 3 naming the file, not a PASS.

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinModelDir } from '@ziplm/models';
import { runOneShot } from '@ziplm/pipeline';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/exit-codes.js';
import { runCli } from './run-cli.js';

const runDir = join(mkdtempSync(join(tmpdir(), 'ziplm-cli-verify-')), 'run');
const member = join(runDir, 'members', 'ziplm-1.50x');

beforeAll(async () => {
  await runOneShot({
    modelDir: builtinModelDir('tiny-bert'),
    runDir,
    targets: [1.5],
    task: 'samples',
    calibrationSamples: 4,
    engine: 'js',
    spdy: false,
    verify: false,
    evaluate: false,
    tableRounds: { minRounds: 3, maxRounds: 3 },
  });
}, 120_000);

describe('ziplm verify checks the shipped files first', () => {
  it.each([
    ['model.onnx cut in half', 'model.onnx', (b: Buffer) => b.subarray(0, b.length >> 1), /has \d+ bytes but \d+ were written/],
    [
      'model.safetensors replaced by other bytes',
      'model.safetensors',
      (b: Buffer) => b.map((x) => x ^ 0x5a),
      /has changed since it was written/,
    ],
  ])('%s: exit 3 naming the file, no stack trace', async (_name, file, damage, problem) => {
    const path = join(member, file);
    const original = readFileSync(path);
    writeFileSync(path, damage(original));
    try {
      const result = await runCli(['verify', '--dense', 'tiny-bert', '--model', member, '--table', join(runDir, 'latency-table.json')]);
      expect(result.code, result.stderr).toBe(EXIT.input);
      expect(result.stderr).toContain(path);
      expect(result.stderr).toMatch(problem);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).not.toMatch(/PASS/);
    } finally {
      writeFileSync(path, original);
    }
    expect(statSync(path).size).toBe(original.length);
  });
});

describe('ziplm verify with a table measured in a browser', () => {
  it('is a usage error that says how to re-time the member in that browser', async () => {
    const json = JSON.parse(readFileSync(join(runDir, 'latency-table.json'), 'utf8')) as {
      environment: Record<string, unknown>;
      fingerprint: Record<string, unknown>;
    };
    json.environment = { ...json.environment, engine: 'onnxruntime-web', backend: 'wasm', threads: 1 };
    json.fingerprint = { ...json.fingerprint, engine: 'onnxruntime-web' };
    const table = join(runDir, 'browser-table.json');
    writeFileSync(table, JSON.stringify(json));
    const result = await runCli(['verify', '--dense', 'tiny-bert', '--model', member, '--table', table]);
    expect(result.code, result.stderr).toBe(EXIT.usage);
    expect(result.stderr).toContain('measured with onnxruntime-web (wasm) in a browser');
    expect(result.stderr).toContain(join(member, 'model.onnx'));
    expect(result.stderr).toContain('Verify in this browser');
    expect(result.stdout).not.toMatch(/PASS/);
  });
});
