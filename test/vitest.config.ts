import { ziplmProject } from '../vitest.shared.ts';

// Checks on the workspace's structure (public APIs, import graph, layering), not on one package.
export default ziplmProject('workspace', { test: { include: ['*.test.ts'] } });
