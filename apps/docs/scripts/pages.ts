// The package reference pages: one per workspace package, generated from its README and its exports
// by `scripts/gen.ts`. Kept dependency-free: the VitePress config imports it for the sidebar.

export interface PackagePage {
  /** Page name under reference/packages/. */
  readonly slug: string;
  readonly packageName: string;
  /** The package directory, relative to the repository root. */
  readonly dir: string;
}

export const PACKAGE_PAGES: readonly PackagePage[] = [
  { slug: 'core', packageName: '@ziplm/core', dir: 'packages/core' },
  { slug: 'models', packageName: '@ziplm/models', dir: 'packages/models' },
  { slug: 'onnx', packageName: '@ziplm/onnx', dir: 'packages/onnx' },
  { slug: 'hessian', packageName: '@ziplm/hessian', dir: 'packages/hessian' },
  { slug: 'latency', packageName: '@ziplm/latency', dir: 'packages/latency' },
  { slug: 'distill', packageName: '@ziplm/distill', dir: 'packages/distill' },
  { slug: 'pipeline', packageName: '@ziplm/pipeline', dir: 'packages/pipeline' },
  { slug: 'teachers', packageName: '@ziplm/teachers', dir: 'packages/teachers' },
  { slug: 'cli', packageName: '@ziplm/cli', dir: 'packages/cli' },
];
