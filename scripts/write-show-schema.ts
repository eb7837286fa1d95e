// Writes shows/show.schema.json from the core schema (`npm run schema`). A unit test fails when
// the committed file is stale, so editors always validate against what the code accepts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { showJsonSchema } from '../core/show.ts';

export const SCHEMA_PATH = fileURLToPath(new URL('../shows/show.schema.json', import.meta.url));

export function renderShowSchema(): string {
  return `${JSON.stringify(showJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_PATH, renderShowSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
