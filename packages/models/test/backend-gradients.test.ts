// The error initBackend raises when @tensorflow/tfjs (pinned to 4.22.0, it registers the gradients)
// and the user's @tensorflow/tfjs-core (the peer) are different versions: the package manager then
// installs two copies of tfjs-core and the gradients land in the one ziplm does not use. Simulated
// here with module mocks: a tfjs-core 4.21.0 whose gradient registry stays empty after @tensorflow/tfjs
// (whose own tfjs-core is 4.22.0) has been imported. Its own file, because the mocks are file-wide.

import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const state = vi.hoisted(() => ({ fixed: false }));

vi.mock('@tensorflow/tfjs', () => ({
  // The union package registers its gradients in its own copy of tfjs-core, i.e. nowhere we can see.
  version: { tfjs: '4.22.0', 'tfjs-core': '4.22.0' },
}));

vi.mock('@tensorflow/tfjs-core', async (importOriginal) => {
  const real = await importOriginal<typeof import('@tensorflow/tfjs-core')>();
  return {
    ...real,
    version_core: '4.21.0',
    // Empty until the test "fixes the installation" (one copy of tfjs-core, gradients registered).
    getGradient: (kernelName: string) => (state.fixed ? { kernelName, gradFunc: () => ({}) } : undefined),
  };
});

// Unit projects share one module registry per worker (isolate: false): drop the modules other test files
// loaded, so the modules under test are imported afresh against the mocks above; and again after this file.
vi.resetModules();
const { initBackend } = await import('../src/tfjs/backend.js');
const { ModelsError } = await import('../src/errors.js');
afterAll(() => {
  vi.doUnmock('@tensorflow/tfjs');
  vi.doUnmock('@tensorflow/tfjs-core');
  vi.resetModules();
});

afterEach(() => {
  delete process.env.ZIPLM_BACKEND;
});

describe('initBackend with mismatched @tensorflow/tfjs and @tensorflow/tfjs-core', () => {
  it('rejects with a typed error naming both versions and the fix, and succeeds once the installation is fixed', async () => {
    process.env.ZIPLM_BACKEND = 'cpu';
    state.fixed = false;
    const failed = initBackend();
    await expect(failed).rejects.toBeInstanceOf(ModelsError);
    await expect(failed).rejects.toThrow(
      'importing @tensorflow/tfjs 4.22.0 did not register gradients in the @tensorflow/tfjs-core 4.21.0 that @ziplm/models runs on ' +
        '(it registered them in its own @tensorflow/tfjs-core 4.22.0: two copies are installed). ' +
        'Install @tensorflow/tfjs-core 4.22.0, the same version as @tensorflow/tfjs.',
    );
    // Asking again does not replay a cached failure: the check runs again and now passes.
    state.fixed = true;
    const info = await initBackend();
    expect(info.backend).toBe('cpu');
    expect(info.reason).toMatch(/forced by ZIPLM_BACKEND=cpu/);
  });
});
