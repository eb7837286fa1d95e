/**
 * Jest runs the TypeScript sources as native ESM; @swc/jest strips the types. Two tiers, by folder:
 *   unit  — exactly the tests under test/unit/: pure code that needs nothing started (core, contracts,
 *           the TS/ID3 writer, segmenter, playlist and RTMP parser, ASL readers, site state): seconds;
 *           `npm test -- --selectProjects unit`. A test from another area keeps its origin in its
 *           name (ivs-ts.test.ts, cdk-asl.test.ts).
 *   stack — every other test folder (test/ivs, test/local, test/sfn, test/integration, test/cli,
 *           test/cdk, test/e2e): starts real parts (emulators, ffmpeg, Chromium, CDK synth).
 * A new test goes to test/unit when it starts nothing, else to the folder of what it starts.
 * `npm test` runs both.
 */
const transform = {
  // Svelte 5 modules first: the first matching pattern wins.
  '\\.svelte\\.ts$': '<rootDir>/test/support/svelte-module-transform.js',
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { target: 'es2024', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
  ],
};

/** The unit tier is the folder test/unit; the stack tier is every other test. */
const UNIT = '<rootDir>/test/unit/';

const common = { testEnvironment: 'node', extensionsToTreatAsEsm: ['.ts'], transform };

export default {
  maxWorkers: 2,
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: [`${UNIT}**/*.test.ts`] },
    {
      ...common,
      displayName: 'stack',
      testRegex: '/test/.*\\.test\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', UNIT],
      // Says which ffmpeg, ffprobe and Chromium the run uses, and unpacks the npm Chromium once.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
