// Jest transform for Svelte 5 modules (`*.svelte.ts`): their runes ($state, $derived, …) only
// work once the Svelte compiler has turned them into calls to its client runtime. The compiler
// reads JavaScript only, so @swc/core strips the TypeScript first (keeping ES modules and class
// fields as they are, which the compiler's rewriting of class runes needs).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import swc from '@swc/core';
import { compileModule, VERSION } from 'svelte/compiler';

const self = readFileSync(new URL(import.meta.url));

export default {
  process(source, filename) {
    const stripped = swc.transformSync(source, {
      filename,
      jsc: { target: 'es2024', parser: { syntax: 'typescript' } },
      module: { type: 'es6' },
    });
    const compiled = compileModule(stripped.code, { filename, generate: 'client', dev: false });
    return { code: compiled.js.code, map: compiled.js.map };
  },
  getCacheKey(source, filename, options) {
    return createHash('sha256')
      .update(self)
      .update(VERSION)
      .update(options.configString)
      .update(filename)
      .update(source)
      .digest('hex');
  },
};
