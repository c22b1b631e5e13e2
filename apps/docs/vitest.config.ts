import { ziplmProject } from '../../vitest.shared.ts';

// The tutorials run end to end on the built-in tiny models: give each test more time than the
// package default, since a tutorial measures a latency table and prunes a model.
export default ziplmProject('docs', { test: { testTimeout: 120_000 } });
