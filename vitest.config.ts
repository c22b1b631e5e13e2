import { defineConfig } from 'vitest/config';

// Unit projects (`<package>`) and end-to-end projects (`<package>-e2e`); see vitest.shared.ts.
// `pnpm test` runs all of them, `pnpm test:unit` the unit projects, `pnpm test:e2e` the end-to-end ones.
export default defineConfig({
  test: {
    projects: [
      'test/vitest.config.ts',
      'packages/*/vitest.config.ts',
      'packages/*/vitest.e2e.config.ts',
      'apps/*/vitest.config.ts',
      'apps/*/vitest.e2e.config.ts',
    ],
  },
});
