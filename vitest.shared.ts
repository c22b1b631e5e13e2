// Settings every package's vitest project shares: resolve workspace packages to their TypeScript
// sources (the `@ziplm/source` export condition), so tests never need a build step.
//
// Each package has up to two projects:
// - `<name>` (vitest.config.ts): unit tests, `test/**/*.test.ts` outside `test/e2e/` and `test/fuzz/`; fast, run by
//   `pnpm test:unit`;
// - `<name>-e2e` (vitest.e2e.config.ts): the slow ones: end-to-end tests in `test/e2e/` (whole pipeline runs, CLI
//   processes, tutorials) and the fuzz suites in `test/fuzz/` (1,000 generated cases per file format).
// `pnpm test` runs both.
import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

const E2E_DIRS = ['test/e2e/**', 'test/fuzz/**'];
const E2E_TESTS = ['test/e2e/**/*.test.ts', 'test/fuzz/**/*.test.ts'];

function baseProject(name: string, include: string[], exclude: string[], testTimeout: number, isolate: boolean): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions: ['@ziplm/source'] },
    ssr: { resolve: { conditions: ['@ziplm/source'] } },
    test: {
      name,
      include,
      exclude: ['**/node_modules/**', ...exclude],
      environment: 'node',
      testTimeout,
      isolate,
      env: { ORT_DISABLE_TELEMETRY: '1' },
    },
  });
}

/** The unit-test project of a package: every `test/**\/*.test.ts` outside `test/e2e/` and `test/fuzz/`. */
export function ziplmProject(name: string, extra: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  return mergeConfig(baseProject(name, ['test/**/*.test.ts'], E2E_DIRS, 60_000, false), extra);
}

/** The slow project of a package (`<name>-e2e`): the tests in `test/e2e/` and `test/fuzz/`. */
export function ziplmE2eProject(name: string, extra: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  return mergeConfig(baseProject(`${name}-e2e`, E2E_TESTS, [], 120_000, true), extra);
}
