// onnxruntime-node as a SessionRunner. onnxruntime is loaded lazily through @ziplm/onnx/runtime
// (which turns telemetry off before the import), so importing this module costs nothing until a
// session is created.

import { loadOrt, ORT_VERSION, sessionOptions } from '@ziplm/onnx/runtime';
import type { InferenceSession } from 'onnxruntime-node';
import type { InferenceEnvironment } from '../environment.js';
import type { DeviceFingerprint } from '../environment.js';
import { MeasurementError } from '../errors.js';
import { nodeDeviceFingerprint } from '../internal/fingerprint.js';
import type { EngineSession, FeedTensor, InputInfo, SessionRunner } from './runner.js';

/**
 * onnxruntime session options that reproduce an environment's engine settings (threads, graph
 * optimisation, spinning): create deployment sessions with these so the table's times apply.
 */
export function ortSessionOptions(env: InferenceEnvironment): InferenceSession.SessionOptions {
  return sessionOptions({ threads: env.threads, graphOptimizationLevel: env.graphOptimizationLevel, allowSpinning: env.allowSpinning });
}

/** The onnxruntime-node session runner for `@ziplm/latency/measure`. */
export async function createOrtRunner(): Promise<SessionRunner> {
  const ort = await loadOrt();
  const engineVersion = ort.env.versions?.node ?? ort.env.versions?.common ?? ORT_VERSION;
  return {
    engine: 'onnxruntime-node',
    engineVersion,
    async createSession(model: Uint8Array, env: InferenceEnvironment): Promise<EngineSession> {
      if (env.engine !== 'onnxruntime-node')
        throw new MeasurementError(`the onnxruntime-node runner cannot measure engine "${env.engine}"`);
      let session: InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, ortSessionOptions(env));
      } catch (err) {
        throw new MeasurementError(`onnxruntime-node could not load a graph (${model.length} bytes): ${(err as Error).message}`, {
          cause: err,
        });
      }
      const inputs: InputInfo[] = session.inputMetadata.map((m) =>
        m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, type: 'non-tensor', shape: [] },
      );
      let feeds: Record<string, InstanceType<typeof ort.Tensor>> | undefined;
      return {
        inputs,
        bind(list: readonly FeedTensor[]) {
          // Wrapped once: `new Tensor(type, typedArray, dims)` does not copy, and reusing the same
          // tensors keeps input allocation out of every timed run.
          feeds = {};
          for (const f of list) feeds[f.name] = new ort.Tensor(f.type, f.data, [...f.dims]);
        },
        async run() {
          if (!feeds) throw new MeasurementError('run() before bind(): inputs must be preallocated');
          await session.run(feeds);
        },
        async release() {
          await session.release();
        },
      };
    },
  };
}

/** The current device's fingerprint for onnxruntime-node (engine version from the loaded module). */
export async function ortFingerprint(): Promise<DeviceFingerprint> {
  const ort = await loadOrt();
  return nodeDeviceFingerprint('onnxruntime-node', ort.env.versions?.node ?? ort.env.versions?.common ?? ORT_VERSION);
}
