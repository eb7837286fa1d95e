/**
 * Jest runs the TypeScript sources as native ESM; @swc/jest strips the types. Two tiers:
 *   unit  — pure code (core, contracts, the TS/ID3 writer, segmenter and playlist, site state): seconds;
 *           `npm test -- --selectProjects unit`
 *   stack — everything that starts real parts (emulators, ffmpeg, Chromium, CDK synth).
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

/** Path patterns of the unit tier; the stack tier is every other test. */
const UNIT = [
  '/test/unit/.*\\.test\\.ts$',
  '/test/ivs/(ts|segmenter|playlist|cue-delivery)\\.test\\.ts$',
  '/test/(cdk|sfn)/asl\\.test\\.ts$',
];

const common = { testEnvironment: 'node', extensionsToTreatAsEsm: ['.ts'], transform };

export default {
  maxWorkers: 2,
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testRegex: UNIT },
    {
      ...common,
      displayName: 'stack',
      testRegex: '/test/.*\\.test\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', ...UNIT],
      // Says which ffmpeg, ffprobe and Chromium the run uses, and unpacks the npm Chromium once.
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
