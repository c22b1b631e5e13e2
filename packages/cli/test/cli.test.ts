import { describe, expect, it } from 'vitest';
import { parseOptions, renderHelp, renderMarkdown, UsageError, defineCommand } from '../src/command.js';
import { EXIT } from '../src/exit-codes.js';
import { loadCommands } from '../src/main.js';
import { runCli } from './run-cli.js';

const demo = defineCommand({
  name: 'demo',
  summary: 'A demo command',
  options: {
    targets: { type: 'list', description: 'Speedup targets', default: ['2', '3'] },
    batchSize: { type: 'number', description: 'Batch size', default: 1 },
    mode: { type: 'string', description: 'Mode', choices: ['latency', 'throughput'], default: 'latency' },
    json: { type: 'boolean', description: 'JSON output', default: false },
    out: { type: 'string', description: 'Output directory' },
  },
  async run() {},
});

describe('option parsing', () => {
  it('parses kebab-case flags, =values, lists, numbers, booleans and defaults', () => {
    const { options, args } = parseOptions(demo, [
      '--batch-size=32',
      '--targets',
      '2,4',
      '--targets',
      '8',
      'pos',
      '--json',
      '--mode',
      'throughput',
    ]);
    expect(options).toEqual({ targets: ['2', '4', '8'], batchSize: 32, mode: 'throughput', json: true, out: undefined });
    expect(args).toEqual(['pos']);
    expect(parseOptions(demo, []).options).toEqual({ targets: ['2', '3'], batchSize: 1, mode: 'latency', json: false, out: undefined });
    expect(parseOptions(demo, ['--no-json']).options.json).toBe(false);
  });

  it('rejects unknown flags, bad numbers, bad choices and missing values with a UsageError naming the flag', () => {
    expect(() => parseOptions(demo, ['--batchsize', '3'])).toThrow(/unknown option --batchsize/);
    expect(() => parseOptions(demo, ['--batch-size', 'many'])).toThrow(/--batch-size must be a number, got "many"/);
    expect(() => parseOptions(demo, ['--mode', 'fast'])).toThrow(/--mode must be one of latency, throughput/);
    expect(() => parseOptions(demo, ['--out'])).toThrow(/--out needs a value/);
    expect(() => parseOptions(demo, ['--json=maybe'])).toThrow(UsageError);
  });

  it('checks every item of a list option with choices, and shows the choices in help', () => {
    const lists = defineCommand({
      name: 'lists',
      summary: 'A command with a list of choices',
      options: { methods: { type: 'list', description: 'Methods', choices: ['a', 'b'], default: ['a'] } },
      async run() {},
    });
    expect(parseOptions(lists, ['--methods', 'b,a']).options.methods).toEqual(['b', 'a']);
    expect(() => parseOptions(lists, ['--methods', 'a,c,d'])).toThrow(/--methods takes values from a, b, got "c", "d"/);
    expect(() => parseOptions(lists, ['--methods', ','])).toThrow(UsageError);
    expect(renderHelp(lists)).toContain('--methods {a|b},...');
    expect(renderMarkdown(lists)).toContain('| `--methods {a\\|b},...` | Methods | `a` |');
  });

  it('renders help and Markdown from the same definition', () => {
    const help = renderHelp(demo);
    expect(help).toContain('--batch-size N');
    expect(help).toContain('(default: 1)');
    const md = renderMarkdown(demo);
    expect(md).toContain('| `--mode latency\\|throughput` | Mode | `latency` |');
  });
});

describe('ziplm', () => {
  it('prints root help listing every command', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(EXIT.ok);
    for (const command of await loadCommands()) expect(stdout).toContain(command.name);
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['prnue'])).code).toBe(EXIT.usage);
    const bad = await runCli(['check', '--modle', 'x']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toContain('unknown option --modle');
  });

  it('exits 3 with the file named when the model directory is bad', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ziplm-cli-'));
    writeFileSync(join(dir, 'config.json'), '{"model_type": "bert", "hidden_size": 10');
    const { code, stderr } = await runCli(['check', '--model', dir]);
    expect(code).toBe(EXIT.input);
    expect(stderr).toContain('config.json');
  });

  it('eval draws progress on a TTY and keeps --json output clean', async () => {
    const shown = await runCli(['eval', '--model', 'tiny-bert', '--task', 'samples'], {}, true);
    expect(shown.code).toBe(EXIT.ok);
    expect(shown.stderr).toMatch(/evaluate \[#+\] (\d+)\/\1/);
    expect(shown.stderr).toMatch(/- scored \d+ sequences in \d+\.\d s/);
    expect(shown.stdout).toMatch(/^agreement with the dense model on built-in sentences \(%\): 100\.00\n/);
    const json = await runCli(['eval', '--model', 'tiny-bert', '--task', 'samples', '--json'], {}, true);
    for (const line of json.stderr.trimEnd().split('\n')) expect(JSON.parse(line)).toHaveProperty('event');
    expect(JSON.parse(json.stdout).value).toBe(100);
  });

  it('checks the built-in models: tfjs and onnxruntime agree', async () => {
    for (const model of ['tiny-bert', 'tiny-gpt2']) {
      const { code, stdout } = await runCli(['check', '--model', model, '--repeats', '1', '--json']);
      expect(code).toBe(EXIT.ok);
      const report = JSON.parse(stdout);
      expect(report.ok).toBe(true);
      expect(report.maxAbsDiffLogits).toBeLessThan(1e-4);
      expect(report.maxAbsDiffHiddenStates).toBeLessThan(1e-4);
    }
  });
});
