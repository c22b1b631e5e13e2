// Content hashes of the run's inputs (model files, the latency table, settings), for the manifest. Atomic
// writes are @ziplm/core/node's (temporary file, fsync, rename, directory fsync), imported from there.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** sha256 of a file, hex. Streams, so large weight files are not read into memory twice. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function hashString(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
