// Progress of a command, wherever its stderr goes:
// - a TTY: stage lines, and a progress bar redrawn in place with the elapsed time and an estimate of the time left;
// - a log file or a pipe: the same stage lines, and plain progress lines at a bounded rate (the first of a stage,
//   then one every 10 s, and the last), so a long training run shows it is alive without one line per step;
// - --json: one JSON event per line on stderr, for a program to read (stdout carries only the command's JSON result).

import type { CommandIO } from './command.js';

export interface PipelineEventLike {
  readonly kind: string;
  readonly stage?: string;
  readonly message?: string;
  readonly done?: number;
  readonly total?: number;
}

export interface ProgressReporterOptions {
  /**
   * Least time between two progress lines of one stage when stderr is not a TTY, in milliseconds. Default:
   * `PROGRESS_LINE_INTERVAL_MS`, or `PROGRESS_EVENT_INTERVAL_MS` with --json.
   */
  readonly minIntervalMs?: number;
  /** The clock, in milliseconds (tests pass a fake one). Default: `performance.now`. */
  readonly now?: () => number;
}

/** A log file gets a progress line of a stage at most this often (besides its first and its last). */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;
/** --json progress events of a stage come at most this often (besides its first and its last). */
export const PROGRESS_EVENT_INTERVAL_MS = 2_000;

const BAR_WIDTH = 28;

/** A duration for people: `42s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The part of a progress stage's name that stays the same while it runs: `training (loss 0.4123)` is the stage
 * `training`, so its changing loss does not restart the clock of the estimate.
 */
export function stageKey(stage: string): string {
  const detail = stage.indexOf(' (');
  return detail >= 0 ? stage.slice(0, detail) : stage;
}

/** The clock of one stage: the time left is estimated from the rate since its first progress event. */
interface StageClock {
  readonly startedAt: number;
  readonly firstDone: number;
  lastDone: number;
  /** When its last line (or --json event) was written; undefined before the first. */
  lastShownAt: number | undefined;
  /** Whether its last line (done === total) was written: a repeated final event is not written again. */
  finishShown: boolean;
}

interface Estimate {
  readonly elapsedSeconds: number;
  /** Undefined until the rate is known (the first event of a stage has none). */
  readonly etaSeconds: number | undefined;
}

function estimate(clock: StageClock, done: number, total: number, now: number): Estimate {
  const elapsedMs = now - clock.startedAt;
  const progressed = done - clock.firstDone;
  let etaSeconds: number | undefined;
  if (done >= total) etaSeconds = 0;
  // Rate since the stage's first event, not done / elapsed: a resumed stage starts at its saved step.
  else if (progressed > 0 && elapsedMs > 0) etaSeconds = ((total - done) * elapsedMs) / progressed / 1000;
  return { elapsedSeconds: elapsedMs / 1000, etaSeconds };
}

/** Seconds with millisecond precision, for --json events. */
function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/**
 * JSON.stringify replacer for event fields: typed arrays become arrays (plain JSON.stringify writes them as
 * `{"0":…}` objects), bigints strings (it throws on them), and per-example `predictions` are left out: they
 * belong in the run's results.json, not in a progress stream.
 */
function eventFieldReplacer(key: string, value: unknown): unknown {
  if (key === 'predictions') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (ArrayBuffer.isView(value)) return value instanceof DataView ? undefined : Object.values(value);
  return value;
}

/** One --json event line. An event whose fields cannot be written (a cycle) is still reported, by kind. */
function jsonEventLine(event: Record<string, unknown>): string {
  try {
    return `${JSON.stringify(event, eventFieldReplacer)}\n`;
  } catch {
    return `${JSON.stringify({ event: event.event, t: event.t, unserializable: true })}\n`;
  }
}

/**
 * The `onEvent` of a command: writes stage, warning and progress events to `io.stderr` as the terminal, a log
 * file or (`json`) a program reading them wants (see the top of this file).
 */
export function progressReporter(io: CommandIO, json: boolean, options: ProgressReporterOptions = {}): (event: PipelineEventLike) => void {
  const now = options.now ?? (() => performance.now());
  const minIntervalMs = options.minIntervalMs ?? (json ? PROGRESS_EVENT_INTERVAL_MS : PROGRESS_LINE_INTERVAL_MS);
  const startedAt = now();
  const clocks = new Map<string, StageClock>();
  let barShown = false;
  const clearBar = () => {
    if (barShown) io.stderr('\r\x1b[2K');
    barShown = false;
  };

  /** The clock of `stage` at this event; a stage that starts over (done going back) gets a new one. */
  const clockOf = (stage: string, done: number, at: number): StageClock => {
    const key = stageKey(stage);
    let clock = clocks.get(key);
    if (clock === undefined || done < clock.lastDone) {
      clock = { startedAt: at, firstDone: done, lastDone: done, lastShownAt: undefined, finishShown: false };
      clocks.set(key, clock);
    }
    clock.lastDone = done;
    return clock;
  };

  /** Whether a rate-limited progress line is due: the first of a stage, the last, or `minIntervalMs` after the previous. */
  const due = (clock: StageClock, done: number, total: number, at: number): boolean => {
    if (done >= total) {
      if (clock.finishShown) return false;
      clock.finishShown = true;
    } else if (clock.lastShownAt !== undefined && at - clock.lastShownAt < minIntervalMs) return false;
    clock.lastShownAt = at;
    return true;
  };

  const onProgress = (stage: string, done: number, total: number) => {
    const at = now();
    const clock = clockOf(stage, done, at);
    const { elapsedSeconds, etaSeconds } = estimate(clock, done, total, at);
    const percent = Math.floor((100 * Math.min(done, total)) / Math.max(1, total));
    const timing = (elapsed: string) =>
      done >= total || etaSeconds === undefined ? elapsed : `${elapsed}, ETA ${formatDuration(etaSeconds)}`;
    if (json) {
      if (!due(clock, done, total, at)) return;
      io.stderr(
        jsonEventLine({
          event: 'progress',
          stage,
          done,
          total,
          elapsedSeconds: roundSeconds(elapsedSeconds),
          etaSeconds: etaSeconds === undefined ? null : roundSeconds(etaSeconds),
          t: roundSeconds((at - startedAt) / 1000),
        }),
      );
    } else if (io.interactive) {
      const filled = Math.round((BAR_WIDTH * Math.min(done, total)) / Math.max(1, total));
      const bar = `${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}`;
      io.stderr(`\r\x1b[2K  ${stage} [${bar}] ${done}/${total} ${percent}% ${timing(formatDuration(elapsedSeconds))}`);
      barShown = true;
      // A finished bar stays on screen as the stage's record, and the next line starts below it.
      if (done >= total) {
        io.stderr('\n');
        barShown = false;
      }
    } else if (due(clock, done, total, at)) {
      io.stderr(`  ${stage}: ${done}/${total} (${percent}%), ${timing(`${formatDuration(elapsedSeconds)} elapsed`)}\n`);
    }
  };

  return (event) => {
    if (event.kind === 'progress') {
      if (event.total !== undefined && event.done !== undefined) onProgress(event.stage ?? '', event.done, event.total);
      return;
    }
    if (json) {
      // Every other event as it came (a pipeline's `member`, say), its `kind` renamed `event`.
      const { kind, ...fields } = event;
      io.stderr(jsonEventLine({ event: kind, ...fields, t: roundSeconds((now() - startedAt) / 1000) }));
      return;
    }
    clearBar();
    if (event.kind === 'stage') io.stderr(`- ${event.message}\n`);
    else if (event.kind === 'warning') io.stderr(`! warning: ${event.message}\n`);
  };
}
