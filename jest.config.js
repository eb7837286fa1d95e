/** Jest runs the TypeScript sources as native ESM; @swc/jest strips the types. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    // Svelte 5 modules first: the first matching pattern wins.
    '\\.svelte\\.ts$': '<rootDir>/test/support/svelte-module-transform.js',
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2024', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
    ],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  testTimeout: 30_000,
  maxWorkers: 2,
};
