// Import boundaries of src/, shared by eslint.config.mjs and the test that proves they bite
// (test/architecture/boundaries.spec.ts). docs/architecture.md draws the same rules.

const FEATURES = ['auth', 'users', 'tenants', 'notes', 'operators', 'citus-admin'];

const noDatabaseHandles = {
  name: '@nestjs/typeorm',
  message:
    'Repositories and data sources come from database/ (GlobalRepositories, Transactions, ' +
    'ClusterSql) or tenancy/ (the scoped layer), never injected directly.',
};

const noTypeormHandles = {
  name: 'typeorm',
  importNames: ['DataSource', 'Repository'],
  message: noDatabaseHandles.message,
};

const noFeatureImports = {
  regex: `^(\\.\\./)+(${FEATURES.join('|')})(/|$)`,
  message:
    'tenancy/, database/, http/, config/, redis/ and metrics/ sit below the feature modules and may not import them.',
};

module.exports = [
  {
    files: ['src/**/*.ts'],
    ignores: ['src/database/**', 'src/tenancy/**', 'src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noDatabaseHandles, noTypeormHandles] }],
    },
  },
  {
    files: [
      'src/database/**/*.ts',
      'src/tenancy/**/*.ts',
      'src/http/**/*.ts',
      'src/config/**/*.ts',
      'src/redis/**/*.ts',
      'src/metrics/**/*.ts',
    ],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noFeatureImports] }],
    },
  },
];
