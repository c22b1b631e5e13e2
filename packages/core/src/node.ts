// @ziplm/core/node: the Node-only primitives (file system). Kept out of the main entry so that it
// never imports node:* modules and runs in a browser. Only the names listed here are public.

// durable atomic writes: temporary file, fsync, rename, directory fsync
export {
  ATOMIC_TEMP_MARKER,
  syncDirectory,
  writeDirectoryAtomic,
  writeFileAtomic,
  writeFileAtomicWith,
  writeJsonAtomic,
} from './atomic-write.js';

// containment of paths read from files (a run directory's records)
export { resolveInside } from './contained-path.js';
