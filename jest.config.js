/** Tests run against the real MySQL, Redis and RabbitMQ, one file at a time (see package.json). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  // Each package's own tests, and the checks of the repository as a whole (deploy files, test hygiene).
  testMatch: ['<rootDir>/*/test/**/*.test.ts', '<rootDir>/test/repository/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/faults/', '<rootDir>/test/cluster/'],
  // Type-checking is `npm run build`'s job (tsc -b); here files are only transpiled, which is fast.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: false }] },
  moduleNameMapper: { '^@market/common$': '<rootDir>/common/src/index.ts' },
  testTimeout: 30000,
};
