import { ziplmProject } from '../../vitest.shared.ts';

// The site's own checks (pages, reference drift, results import); the tutorials run in the `docs-e2e`
// project (vitest.e2e.config.ts).
export default ziplmProject('docs');
