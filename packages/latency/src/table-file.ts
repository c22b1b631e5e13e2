// Reading and writing table files (Node). Writes are atomic and durable (@ziplm/core/node: temporary
// file, fsync, rename, directory fsync) so an interrupted build never leaves a truncated table that a
// later search would trust.

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@ziplm/core/node';
import type { ModelConfig } from '@ziplm/models';
import type { DeviceFingerprint } from './environment.js';
import { compareFingerprints } from './environment.js';
import { LatencyTableError } from './errors.js';
import type { LatencyTable, ModelShape } from './table.js';
import { checkTableMatchesModel, parseLatencyTable, serializeLatencyTable } from './table.js';

/** Writes a table atomically; validates it first, so nothing unreadable is ever written. */
export async function saveLatencyTable(file: string, table: LatencyTable): Promise<void> {
  await writeFileAtomic(file, serializeLatencyTable(table));
}

/** Something a caller should know about a loaded table that does not make it unusable. */
export interface LatencyTableWarning {
  readonly kind: 'fingerprint';
  /** The fingerprint field that differs. */
  readonly field: keyof DeviceFingerprint;
  readonly table: string | number;
  readonly current: string | number;
  readonly message: string;
}

export interface LoadLatencyTableOptions {
  /** When given, a table measured for another model shape is rejected (TableMismatchError). */
  model?: ModelConfig | ModelShape;
  /**
   * The current device's fingerprint (`ortFingerprint()` from `@ziplm/latency/measure`, or
   * `nodeDeviceFingerprint`). When given, every differing field yields a warning.
   */
  fingerprint?: DeviceFingerprint;
  /** Called once per warning, in addition to returning it. */
  onWarning?: (warning: LatencyTableWarning) => void;
}

/**
 * Reads and validates a table file. Errors (LatencyTableError, TableMismatchError) name the file
 * and the field; device differences come back as warnings, never on the console.
 */
export async function loadLatencyTable(
  file: string,
  options: LoadLatencyTableOptions = {},
): Promise<{ table: LatencyTable; warnings: LatencyTableWarning[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new LatencyTableError('(file)', `cannot be read: ${(err as Error).message}`, file, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LatencyTableError('(root)', `is not valid JSON: ${(err as Error).message}`, file, { cause: err });
  }
  const table = parseLatencyTable(json, file);
  if (options.model) checkTableMatchesModel(table, options.model, file);
  const warnings: LatencyTableWarning[] = [];
  if (options.fingerprint) {
    for (const d of compareFingerprints(table.fingerprint, options.fingerprint)) {
      const warning: LatencyTableWarning = {
        kind: 'fingerprint',
        field: d.field,
        table: d.table,
        current: d.current,
        message: `${file}: measured on a device with ${d.field} ${JSON.stringify(d.table)}, this device has ${JSON.stringify(d.current)}; its times may not hold here (rebuild the table on this device for a guarantee)`,
      };
      warnings.push(warning);
      options.onWarning?.(warning);
    }
  }
  return { table, warnings };
}
