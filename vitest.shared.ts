// Settings every package's vitest project shares: resolve workspace packages to their TypeScript
// sources (the `@ziplm/source` export condition), so tests never need a build step.
import { defineProject, mergeConfig, type UserWorkspaceConfig } from 'vitest/config';

export function ziplmProject(name: string, extra: UserWorkspaceConfig = {}): UserWorkspaceConfig {
  return mergeConfig(
    defineProject({
      resolve: { conditions: ['@ziplm/source'] },
      ssr: { resolve: { conditions: ['@ziplm/source'] } },
      test: {
        name,
        include: ['test/**/*.test.ts'],
        environment: 'node',
        testTimeout: 60_000,
        env: { ORT_DISABLE_TELEMETRY: '1' },
      },
    }),
    extra,
  );
}
