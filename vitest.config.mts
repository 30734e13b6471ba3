import { configDefaults, defineConfig } from 'vitest/config';

// Two projects (`vitest run --project unit`): `unit` is test/unit/, pure code that needs neither Azurite
// nor a build; `integration` is everything else, run against one Azurite and the compiled app in dist/,
// which its global setup first checks is fresh. `npm test` builds, then runs both.
// Tests under test/unit/ that pack or load dist/ run with the integration project (file names).
const BUILD_DEPENDENT_UNIT_TESTS = ['pack.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets CI print a one-line summary; the default reporter stays for people.
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest.json' }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          exclude: [
            ...configDefaults.exclude,
            ...BUILD_DEPENDENT_UNIT_TESTS.map((name) => `test/unit/**/${name}`),
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // Everything but test/unit/, plus the unit-folder tests that need the build. (picomatch's !(unit)
          // also skips other folders whose names start with "unit"; there are none.)
          include: [
            'test/*.test.ts',
            'test/!(unit)/**/*.test.ts',
            ...BUILD_DEPENDENT_UNIT_TESTS.map((name) => `test/unit/${name}`),
          ],
          globalSetup: ['test/support/distSetup.ts', 'test/support/globalSetup.ts'],
        },
      },
    ],
  },
});
