// Two projects: unit specs live beside the code; e2e specs in test/ run against a real database
// that the e2e project's global setup starts (or connects to) once per run.
// Type checking is tsc's job (npm run typecheck); jest only transpiles, file by file.
// Node 20 can require() the few ES-module-only packages in the tree (content-disposition, pulled
// in by @fastify/static for Swagger UI); jest's module system cannot, so it transpiles them.
const ESM_ONLY = ['content-disposition'];
const transform = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }],
  [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: [
    'ts-jest',
    { tsconfig: { allowJs: true, isolatedModules: true, module: 'commonjs' } },
  ],
};
const transformIgnorePatterns = [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`];

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', '<rootDir>/test/harness/summary-reporter.cjs'],
  maxWorkers: 2,
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      transformIgnorePatterns,
      roots: [
        '<rootDir>/src',
        '<rootDir>/test/harness',
        '<rootDir>/test/architecture',
        '<rootDir>/tools',
        '<rootDir>/bench',
        '<rootDir>/web/src',
      ],
      testMatch: ['**/*.spec.ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: '<rootDir>/test/harness/e2e-environment.cjs',
      transform,
      transformIgnorePatterns,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/harness/setup-e2e.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ],
};
