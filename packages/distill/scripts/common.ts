// Shared helpers of the recipe scripts (the recipes themselves are library functions in src/recipes.ts):
// command-line options, a timestamped console logger and a progress logger.

import { resolve } from 'node:path';
import type { ProgressEvent } from '../src/index.js';

/** `--name value` and `--flag` options; unknown options are an error (a typo must not start a 1-hour run). */
export function parseArgs<T extends Record<string, string | number | boolean>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const key = arg.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!(key in defaults))
      throw new Error(
        `unknown option ${arg}; options: ${Object.keys(defaults)
          .map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
          .join(' ')}`,
      );
    const d = defaults[key];
    if (typeof d === 'boolean') {
      out[key] = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`option ${arg} needs a value`);
    if (typeof d === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`option ${arg} must be a number, got ${JSON.stringify(value)}`);
      out[key] = n;
    } else out[key] = value;
  }
  return out as T;
}

/** Resolves a path given on the command line against the directory pnpm started in. */
export function cliPath(p: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

export function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(s % 60).padStart(2, '0')}s`;
}

/** A progress callback that logs every `every` steps, every evaluation and every checkpoint. */
export function progressLogger(every: number): (e: ProgressEvent) => void {
  let peakRss = 0;
  let window = { loss: 0, n: 0 };
  return (e) => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (e.type === 'step') {
      window.loss += e.loss;
      window.n += 1;
      if (e.step % every === 0 || e.step === e.totalSteps) {
        const eta = e.tokensPerSecond > 0 ? (e.elapsedMs / e.step) * (e.totalSteps - e.step) : 0;
        log(
          `step ${e.step}/${e.totalSteps} epoch ${e.epoch} loss ${(window.loss / window.n).toFixed(4)} lr ${e.lr.toExponential(2)} ` +
            `|g| ${e.gradNorm.toFixed(2)} ${e.tokensPerSecond.toFixed(0)} tok/s elapsed ${duration(e.elapsedMs)} eta ${duration(eta)} rss ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
        );
        window = { loss: 0, n: 0 };
      }
    } else if (e.type === 'evaluation') {
      log(
        `eval at step ${e.step}: ${Object.entries(e.metrics)
          .map(([k, v]) => `${k} ${v.toFixed(4)}`)
          .join(', ')}${e.best ? ' (best so far)' : ''}`,
      );
    } else if (e.type === 'checkpoint') {
      log(`checkpoint at step ${e.step}: ${e.path}`);
    } else if (e.type === 'resumed') {
      log(`resumed at step ${e.step} from ${e.path}`);
    } else {
      log(`stopped at step ${e.step}/${e.totalSteps} (${e.reason})`);
    }
  };
}

export { duration };

/** Prints an error and exits 1: a typed error (DataError, TrainingConfigError, ...) as one line naming the problem. */
export function fail(error: unknown): never {
  const typed = error instanceof Error && error.name !== 'Error' && error.name !== 'TypeError' && error.name !== 'RangeError';
  console.error(typed ? `${error.name}: ${error.message}` : error);
  process.exit(1);
}
