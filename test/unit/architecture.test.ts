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

/** `file imports target` for every import of `area`'s files (of `among`) the rule refuses. */
function violations(area: string, allowed: (target: Target) => boolean, among: Source[] = ALL): string[] {
  return among
    .filter((s) => s.area === area)
    .flatMap((s) =>
      importsOf(s)
        .filter((t) => !allowed(t))
        .map((t) => `${s.path} imports ${t.kind === 'ours' ? t.path : t.name}`),
    );
}

/** Allows any package, the listed areas of ours, and the listed files (each a recorded exception). */
const onlyFrom =
  (areas: string[], files: string[] = []) =>
  (t: Target) =>
    t.kind === 'package' || areas.includes(t.area) || files.includes(t.path);

/** The Lambdas' settings (names, defaults, the metrics namespace): the stack sets what they read. */
const LAMBDA_CONFIG = ['lambdas/config.ts'];

/**
 * What each area above store/ may import, bottom to top (docs/ARCHITECTURE.md): ops/ over store/;
 * lambdas/ over ops/; local/ wraps the lambdas; cli/ is a client of a stack through ops/; cdk/ builds
 * the stack (it names the Lambda entry files and the state machine definition by path, not import).
 */
const RULES = {
  ops: onlyFrom(['ops', 'store', 'core', 'contract']),
  lambdas: onlyFrom(['lambdas', 'ops', 'store', 'core', 'contract']),
  local: onlyFrom(['local', 'lambdas', 'ops', 'store', 'core', 'contract']),
  cli: onlyFrom(['cli', 'ops', 'core', 'contract']),
  cdk: onlyFrom(['cdk', 'contract', 'core'], LAMBDA_CONFIG),
};

const touchesTheWorld = (area: string) =>
  ALL.filter((s) => s.area === area && /\b(process\.|require\(|fetch\()/.test(s.text)).map(
    (s) => `${s.path} touches process/require/fetch`,
  );

describe('architecture (docs/ARCHITECTURE.md, "Layers and dependency rules")', () => {
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
    expect(violations('store', onlyFrom(['store', 'core', 'contract']))).toEqual([]);
  });

  it('ops/ is what the CLI, the demo and the producer API share: it imports only ops/, store/, core/, contract/ (no cli/, local/, lambdas/, cdk/, site/)', () => {
    expect(violations('ops', RULES.ops)).toEqual([]);
  });

  it('lambdas/ import only ops/, store/, core/, contract/ (the local stack wraps them, never the other way)', () => {
    expect(violations('lambdas', RULES.lambdas)).toEqual([]);
  });

  it('local/ imports the lambdas and what they stand on, nothing of cli/, cdk/ or site/ (the demo loop calls ops/, as the CLI does)', () => {
    expect(violations('local', RULES.local)).toEqual([]);
  });

  it('cli/ is a client of a stack: it imports ops/, core/, contract/, never local/, lambdas/ or store/ directly', () => {
    expect(violations('cli', RULES.cli)).toEqual([]);
  });

  it("cdk/ imports contract/, core/ and the Lambdas' settings; it names the Lambda entry files by path", () => {
    expect(violations('cdk', RULES.cdk)).toEqual([]);
  });

  it('the rules refuse what they must: ops/ importing cdk/ or site/, cli/ importing local/, cdk/ importing a Lambda', () => {
    const source = (path: string, text: string): Source => ({ path, area: path.split('/')[0]!, text });
    const made = [
      source(
        'ops/made-up.ts',
        [
          "import { ShowrunnerStack } from '../cdk/lib/showrunner-stack.ts';",
          "import { sizeFor } from '../core/sizing.ts';",
          "const show = await import('../site/src/lib/show.svelte.ts');",
          "export { PollStore } from '../store/polls.ts';",
        ].join('\n'),
      ),
      source('cli/made-up.ts', "import { startLocalStack } from '../local/server.ts';"),
      source(
        'cdk/made-up.ts',
        "import { createApiHandler } from '../lambdas/api.ts';\nimport { metricsNamespaceFor } from '../lambdas/config.ts';",
      ),
    ];
    expect(violations('ops', RULES.ops, made)).toEqual([
      'ops/made-up.ts imports cdk/lib/showrunner-stack.ts',
      'ops/made-up.ts imports site/src/lib/show.svelte.ts',
    ]);
    expect(violations('cli', RULES.cli, made)).toEqual(['cli/made-up.ts imports local/server.ts']);
    expect(violations('cdk', RULES.cdk, made)).toEqual(['cdk/made-up.ts imports lambdas/api.ts']);
  });

  it('nothing but test/ and bench/ imports test/ or bench/', () => {
    const areas = [...new Set(ALL.map((s) => s.area))].filter((a) => a !== 'test' && a !== 'bench');
    expect(
      areas.flatMap((area) =>
        violations(area, (t) => t.kind === 'package' || (t.area !== 'test' && t.area !== 'bench')),
      ),
    ).toEqual([]);
  });

  it('site/ imports only contract/, core/ and its own modules (and packages)', () => {
    expect(violations('site', onlyFrom(['site', 'contract', 'core']))).toEqual([]);
  });

  it('the rules see the imports: each area has sources and the scan finds known imports', () => {
    for (const area of [
      'contract',
      'core',
      'store',
      'ops',
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

  // ---- Wiring without globals ---------------------------------------------------

  /** The code without its comments (a comment may say what the code must not do). */
  const codeOf = (source: Source) =>
    source.text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');

  /** Program entry points: they read the environment and pass what they read on to the rest. */
  const COMPOSITION_ROOTS = [
    /^local\/(server|main)\.ts$/,
    /^lambdas\/handlers\/[^/]+\.ts$/,
    /^cli\/showrunner\.ts$/,
    /^(test|bench)\//,
  ];
  /**
   * Known exceptions, each a debt with its reason. local/binaries.ts looks up FFMPEG_PATH… and PATH
   * when its caller passes no `env`.
   */
  const READS_ENV_EXCEPTIONS = new Set(['local/binaries.ts']);

  /** Reads of process.env; handing the whole environment to a child process (`...process.env`) is not one. */
  const readsEnv = (source: Source) =>
    /\bprocess\s*\.\s*env\b|\bprocess\s*\[\s*['"`]env|\benv\b[^=;]*\}\s*=\s*process\b/.test(
      codeOf(source).replace(/\.\.\.\s*process\.env\b/g, ''),
    );

  it('only composition roots read process.env (local/server.ts, local/main.ts, lambdas/handlers/, cli/showrunner.ts, test/, bench/)', () => {
    const readers = ALL.filter(readsEnv).map((s) => s.path);
    expect(
      readers.filter(
        (path) => !COMPOSITION_ROOTS.some((root) => root.test(path)) && !READS_ENV_EXCEPTIONS.has(path),
      ),
    ).toEqual([]);
    // The rule sees reads: the Lambda entry files read their environment.
    expect(readers).toEqual(
      expect.arrayContaining(['lambdas/handlers/api.ts', 'lambdas/handlers/poll-lifecycle.ts']),
    );
  });

  it('lambdas/ outside the entry files read no environment: the factories get their config and clients', () => {
    expect(
      ALL.filter((s) => s.area === 'lambdas' && !s.path.startsWith('lambdas/handlers/') && readsEnv(s)).map(
        (s) => s.path,
      ),
    ).toEqual([]);
  });

  it('CDK bundles the Lambda entry files (lambdas/handlers/), the only lambdas/ modules that do anything at import', () => {
    const entries = ALL.filter((s) => s.area === 'cdk').flatMap((s) =>
      [...codeOf(s).matchAll(/\bentry:\s*'([^']+)'/g)].map(([, entry]) => entry),
    );
    // The API, producer and lifecycle Lambdas at least.
    expect(entries.length).toBeGreaterThanOrEqual(3);
    expect(entries.filter((entry) => !/^lambdas\/handlers\/[^/]+\.ts$/.test(entry!))).toEqual([]);
  });

  it('nothing writes process.env (no assignment, delete or Object.assign): dependencies are passed in', () => {
    const writes =
      /\bprocess\.env(?:\s*\.\s*\w+|\s*\[[^\]]+\])?\s*(?:\?\?|\|\||&&|[-+*/%])?=(?!=)|\bdelete\s+process\.env\b|\bObject\.(?:assign|defineProperty|defineProperties)\(\s*process\.env\b/;
    expect(ALL.filter((s) => writes.test(codeOf(s))).map((s) => s.path)).toEqual([]);
    // The pattern sees the ways of writing it (spelt so that this file holds none of them).
    const env = ['process', 'env'].join('.');
    for (const line of [
      `${env}.X = "1";`,
      `${env}['X'] ??= '1';`,
      `delete ${env}.X;`,
      `Object.assign(${env}, {});`,
      `${env} = {};`,
    ])
      expect(writes.test(line)).toBe(true);
    expect(writes.test(`if (${env}.X === "1") {}`)).toBe(false);
  });
});
