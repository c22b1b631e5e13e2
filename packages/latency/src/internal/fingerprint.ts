// The fingerprint of the device this process runs on (Node). Kept apart from environment.ts so the
// environment types stay free of `node:` imports.

import { cpus, availableParallelism } from 'node:os';
import type { DeviceFingerprint } from '../environment.js';

/**
 * The current device's fingerprint for an engine. `engineVersion` is the engine's own version
 * (e.g. `ort.env.versions.node`); `@ziplm/latency/measure`'s `ortFingerprint()` fills it in for
 * onnxruntime-node.
 */
export function nodeDeviceFingerprint(engine: string, engineVersion: string): DeviceFingerprint {
  const list = cpus();
  // Some containers report an empty cpus() list; availableParallelism() still knows the core count.
  const model = (list[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' ');
  return {
    cpuModel: model,
    logicalCores: availableParallelism(),
    platform: process.platform,
    arch: process.arch,
    engine,
    engineVersion,
    runtimeVersion: `node ${process.versions.node}`,
  };
}
