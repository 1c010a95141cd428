/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // ts-jest 29 supports TypeScript >=4.3 <7; TypeScript is pinned to 5.9 for that reason.
  // isolatedModules: each file is transpiled on its own (fast); `npm run typecheck` does the type work.
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
  testTimeout: 20000,
  // Every log line of the run is grepped for keys and raw emails at the end (issue 5).
  globalSetup: '<rootDir>/test/log-sweep-setup.js',
  globalTeardown: '<rootDir>/test/log-sweep-teardown.js',
};
