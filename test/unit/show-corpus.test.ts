// A corpus of malformed show files (test/fixtures/shows/invalid), each with the error a producer
// must see first (test/fixtures/shows/invalid-expected.json).
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { formatIssues, parseShowText } from '../../core/show.ts';

const dir = new URL('../fixtures/shows/invalid/', import.meta.url);
const expected = JSON.parse(
  readFileSync(new URL('../fixtures/shows/invalid-expected.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('malformed show corpus', () => {
  it('has at least 30 files, each with an expected error', () => {
    expect(files.length).toBeGreaterThanOrEqual(30);
    expect(files).toEqual(Object.keys(expected).sort());
  });

  it.each(files)('%s is rejected with its expected error', (file) => {
    const result = parseShowText(readFileSync(new URL(file, dir), 'utf8'));
    expect(result.ok).toBe(false);
    const first = result.ok ? '' : formatIssues(result.issues).split('\n')[0]!;
    // Prefix match: the 1 KB case reports the byte count, which depends on the JSON encoding.
    expect(first.slice(0, expected[file]!.length)).toBe(expected[file]);
  });
});
