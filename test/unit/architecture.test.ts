import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { renderShowSchema, SCHEMA_PATH } from '../../scripts/write-show-schema.ts';
import { ROOT } from '../support/stack.ts';

/** Not ours to check: dependencies, build output, data, fixtures. */
const SKIP = new Set(['node_modules', 'dist', 'cdk.out', 'coverage', '.git', '.showrunner', 'test-results']);
const SKIP_PATHS = new Set(['test/fixtures', 'bench/results']);

interface Source {
  /** Repo-relative, with '/' separators. */
  path: string;
  /** The top folder: core, contract, site… */
  area: string;
  text: string;
}

function sources(dir = ROOT): Source[] {
  const found: Source[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const path = relative(ROOT, full).split(sep).join('/');
    if (SKIP.has(entry.name) || SKIP_PATHS.has(path)) continue;
    if (entry.isDirectory()) found.push(...sources(full));
    else if (/\.(ts|js|svelte)$/.test(entry.name) && path.includes('/')) {
      found.push({ path, area: path.split('/')[0]!, text: readFileSync(full, 'utf8') });
    }
  }
  return found;
}

type Target = { kind: 'ours'; path: string; area: string } | { kind: 'package'; name: string };

/** Every module a source imports (static, dynamic, re-exports), resolved. */
function importsOf(source: Source): Target[] {
  return [...source.text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map(([, spec]) => {
    if (!spec!.startsWith('.')) {
      const parts = spec!.split('/');
      return { kind: 'package', name: spec!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
    }
    const path = relative(ROOT, resolve(ROOT, dirname(source.path), spec!))
      .split(sep)
      .join('/');
    return { kind: 'ours', path, area: path.split('/')[0]! };
  });
}

const ALL = sources();

/** `file imports target` for every import of `area`'s files the rule refuses. */
function violations(area: string, allowed: (target: Target) => boolean): string[] {
  return ALL.filter((s) => s.area === area).flatMap((s) =>
    importsOf(s)
      .filter((t) => !allowed(t))
      .map((t) => `${s.path} imports ${t.kind === 'ours' ? t.path : t.name}`),
  );
}

const touchesTheWorld = (area: string) =>
  ALL.filter((s) => s.area === area && /\b(process\.|require\(|fetch\()/.test(s.text)).map(
    (s) => `${s.path} touches process/require/fetch`,
  );

describe('architecture (DESIGN.md, "Layout")', () => {
  it('contract/ is pure and comes first: it imports only itself and zod', () => {
    expect(
      violations('contract', (t) => (t.kind === 'ours' ? t.area === 'contract' : t.name === 'zod')),
    ).toEqual([]);
    expect(touchesTheWorld('contract')).toEqual([]);
  });

  it('core/ is pure: it imports only its own modules, contract/ and zod (no SDK, no node: I/O, no HTTP)', () => {
    expect(
      violations('core', (t) =>
        t.kind === 'ours' ? t.area === 'core' || t.area === 'contract' : t.name === 'zod',
      ),
    ).toEqual([]);
    expect(touchesTheWorld('core')).toEqual([]);
  });

  it('store/ sits on core and contract: it imports no entry point, CLI or emulator', () => {
    expect(
      violations('store', (t) => t.kind === 'package' || ['store', 'core', 'contract'].includes(t.area)),
    ).toEqual([]);
  });

  it('lambdas/ import nothing of local/ (the local stack wraps them, never the other way)', () => {
    expect(violations('lambdas', (t) => t.kind === 'package' || t.area !== 'local')).toEqual([]);
  });

  // TODO(issue 11, item 4): local/server.ts still imports cli/demo.ts; enable once the demo loop has
  // moved out of cli/.
  // it('local/ imports nothing of cli/', () => {
  //   expect(violations('local', (t) => t.kind === 'package' || t.area !== 'cli')).toEqual([]);
  // });

  it('nothing but test/ and bench/ imports test/ or bench/', () => {
    const areas = [...new Set(ALL.map((s) => s.area))].filter((a) => a !== 'test' && a !== 'bench');
    expect(
      areas.flatMap((area) =>
        violations(area, (t) => t.kind === 'package' || (t.area !== 'test' && t.area !== 'bench')),
      ),
    ).toEqual([]);
  });

  it('site/ imports only contract/, core/ and its own modules (and packages)', () => {
    expect(
      violations('site', (t) => t.kind === 'package' || ['site', 'contract', 'core'].includes(t.area)),
    ).toEqual([]);
  });

  it('the rules see the imports: each area has sources and the scan finds known imports', () => {
    for (const area of [
      'contract',
      'core',
      'store',
      'lambdas',
      'local',
      'cli',
      'site',
      'cdk',
      'test',
      'bench',
    ])
      expect(ALL.some((s) => s.area === area)).toBe(true);
    const api = ALL.find((s) => s.path === 'lambdas/api.ts')!;
    expect(importsOf(api)).toContainEqual({ kind: 'ours', path: 'contract/api.ts', area: 'contract' });
    expect(importsOf(api)).toContainEqual({ kind: 'package', name: '@middy/core' });
  });

  it('shows/show.schema.json is generated from the core schema (run `npm run schema` when this fails)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderShowSchema());
  });
});
