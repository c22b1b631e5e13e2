// Progress of a pipeline run on the terminal: stage lines, and on a TTY a progress bar redrawn in
// place. With --json nothing is drawn (stdout carries only the JSON result).

import type { CommandIO } from './command.js';

export interface PipelineEventLike {
  readonly kind: string;
  readonly stage?: string;
  readonly message?: string;
  readonly done?: number;
  readonly total?: number;
}

export function progressReporter(io: CommandIO, quiet: boolean): (event: PipelineEventLike) => void {
  let barShown = false;
  const clearBar = () => {
    if (barShown) io.stderr('\r\x1b[2K');
    barShown = false;
  };
  return (event) => {
    if (quiet) return;
    if (event.kind === 'progress') {
      if (!io.interactive || event.total === undefined || event.done === undefined) return;
      const width = 28;
      const filled = Math.round((width * event.done) / Math.max(1, event.total));
      io.stderr(`\r\x1b[2K  ${event.stage ?? ''} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${event.done}/${event.total}`);
      barShown = true;
      return;
    }
    clearBar();
    if (event.kind === 'stage') io.stderr(`- ${event.message}\n`);
    else if (event.kind === 'warning') io.stderr(`! warning: ${event.message}\n`);
  };
}
