#!/usr/bin/env node
// `showrunner` on the PATH: `npm install` links it into node_modules/.bin (this folder is a workspace
// of the root package, see cli/bin/package.json), where `npx showrunner` finds it at once. A "bin" in
// the root package.json would make npx load the whole dependency tree and its own cache on every
// call (a third of a second or more) before running it. Plain JavaScript, so Node's compile cache is
// on before the first TypeScript module loads; then cli/showrunner.ts runs the command line.
import module from 'node:module';

module.enableCompileCache?.();
const { runProcess } = await import('../showrunner.ts');
await runProcess();
