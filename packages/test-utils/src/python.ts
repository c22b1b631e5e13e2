// External cross-checks in Python (Debian packages such as python3-onnx): found, never depended on.

import { spawnSync } from 'node:child_process';

/**
 * A python3 that can `import <module>` (`ZIPLM_PYTHON`, then `python3`, then `/usr/bin/python3`), or undefined:
 * tests that use it skip with a message when there is none.
 */
export function pythonWith(module: string): string | undefined {
  for (const py of [process.env.ZIPLM_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

/** A python3 with the onnx package (the reference ONNX checker; Debian: apt-get install python3-onnx), or undefined. */
export function pythonWithOnnx(): string | undefined {
  return pythonWith('onnx');
}
