// Jest runs our TypeScript as native ESM (NestJS 12 ships ESM only), transformed by SWC with the same
// decorator settings as the build. Run through `node --experimental-vm-modules` (see package.json).
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'es6' },
};

const base = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@app/(.*)$': '<rootDir>/libs/$1/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

// Integration and e2e tests need Redis and Postgres: the global setup uses REDIS_URL / TEST_DATABASE_ADMIN_URL
// (defaults 127.0.0.1:6379 / :5432) and starts a private instance from the installed binaries for one that does
// not answer; the teardown stops it. Jest runs one setup file once however many projects name it, and only for
// projects with tests in the run (unit tests alone start nothing).
const services = { globalSetup: '<rootDir>/test/support/global-setup.ts', globalTeardown: '<rootDir>/test/support/global-teardown.ts' };

export default {
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    { ...base, ...services, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.spec.ts'] },
    { ...base, ...services, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.spec.ts'] },
  ],
  testTimeout: 60000,
};
