import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Type-level tests (*.test-d.ts) run under tsc as part of `vitest run`: an expectTypeOf that
    // no longer holds, or a @ts-expect-error whose error is gone, fails the test that holds it.
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: 'tsconfig.json',
    },
  },
});
