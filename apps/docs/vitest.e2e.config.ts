import { ziplmE2eProject } from '../../vitest.shared.ts';

// The tutorials run end to end on the built-in tiny models (a tutorial measures a latency table and
// prunes a model): each test gets more time than the unit default.
export default ziplmE2eProject('docs', { test: { testTimeout: 120_000 } });
