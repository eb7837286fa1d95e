import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderShowSchema, SCHEMA_PATH } from '../../scripts/write-show-schema.ts';
import { ROOT } from '../support/stack.ts';

describe('architecture', () => {
  it('core/ is pure: it imports only its own modules and zod (no SDK, no node: I/O)', () => {
    const dir = join(ROOT, 'core');
    const offending: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of source.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (!spec!.startsWith('./') && spec !== 'zod') offending.push(`${file} imports ${spec}`);
      }
      if (/\b(process\.|require\(|fetch\()/.test(source))
        offending.push(`${file} touches process/require/fetch`);
    }
    expect(offending).toEqual([]);
  });

  it('shows/show.schema.json is generated from the core schema (run `npm run schema` when this fails)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderShowSchema());
  });
});
