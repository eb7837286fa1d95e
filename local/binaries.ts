// Finds the programs the local stack, the tests and the benchmarks run: ffmpeg, ffprobe, Chromium and
// a font for the burned-in clock. Each is looked up in one order — an explicit variable, then the
// system's copy on PATH, then a copy shipped inside an npm package — so a machine with only Node and
// npm works, and a machine with its own ffmpeg or Chromium uses that. Nothing here relies on an
// install script (npm 11 skips them): shipped binaries are checked, and made executable, at first use.
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, openSync, readSync, realpathSync, createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'; // prettier-ignore
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';

export type BinaryName = 'ffmpeg' | 'ffprobe' | 'chromium';

export interface ResolvedBinary {
  name: BinaryName;
  path: string;
  /** Where it came from: the explicit variable, the system's PATH, or an npm package. */
  source: 'variable' | 'system' | 'npm';
  /** The variable's name, the PATH directory, or the npm package's name. */
  origin: string;
  /** As the program reports it (`4.1`, `5.1.6`, `153.0.8010.0`), or `unknown`. */
  version: string;
  /** Extra environment to run it with (see staticGlibcEnv, fontconfigFile), if any. */
  env?: Record<string, string>;
}

export class BinaryNotFoundError extends Error {
  override readonly name = 'BinaryNotFoundError';
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const EXE = process.platform === 'win32' ? '.exe' : '';

interface BinarySpec {
  variable: string;
  /** Names tried on PATH, in order. */
  system: readonly string[];
  /** What the binary is needed for, for the error message. */
  neededFor: string;
  versionArgs: readonly string[];
  /** `name version` out of the first line of `versionArgs` output. */
  versionPattern: RegExp;
}

const SPECS: Record<BinaryName, BinarySpec> = {
  ffmpeg: {
    variable: 'FFMPEG_PATH',
    system: ['ffmpeg'],
    neededFor: 'the local stream (npm start, the stream and browser tests)',
    versionArgs: ['-version'],
    versionPattern: /version\s+n?(\d+(?:\.\d+)+)/,
  },
  ffprobe: {
    variable: 'FFPROBE_PATH',
    system: ['ffprobe'],
    neededFor: 'the stream tests',
    versionArgs: ['-version'],
    versionPattern: /version\s+n?(\d+(?:\.\d+)+)/,
  },
  chromium: {
    variable: 'CHROMIUM_PATH',
    system: ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'],
    neededFor: 'the browser tests and benchmarks',
    versionArgs: ['--version'],
    versionPattern: /(\d+\.\d+\.\d+\.\d+)/,
  },
};

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(names: readonly string[], pathVariable: string): { path: string; dir: string } | undefined {
  for (const name of names) {
    for (const dir of pathVariable.split(delimiter)) {
      if (!dir) continue;
      const path = join(dir, name + EXE);
      if (isExecutable(path)) return { path, dir };
    }
  }
  return undefined;
}

/** npm keeps the executable bit from the tarball, but not every package sets it: set it ourselves. */
export function ensureExecutable(path: string): boolean {
  if (isExecutable(path)) return true;
  try {
    chmodSync(path, statSync(path).mode | 0o111);
  } catch {
    return false;
  }
  return isExecutable(path);
}

/** Runs the binary once: proves it starts on this machine (right architecture, libraries present). */
function probeVersion(spec: BinarySpec, path: string, env?: Record<string, string>): string {
  const output = execFileSync(path, [...spec.versionArgs], {
    encoding: 'utf8',
    timeout: 20_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  return spec.versionPattern.exec(output.split('\n')[0] ?? '')?.[1] ?? 'unknown';
}

/** The installed package's folder; by lookup, since a package's `exports` may hide package.json. */
function packageDir(name: string): string | undefined {
  return (require.resolve.paths(name) ?? [])
    .map((modules) => join(modules, name))
    .find((dir) => existsSync(join(dir, 'package.json')));
}

/** A copy found inside an npm package, with any environment it needs beyond runEnv's. */
interface Shipped {
  path: string;
  origin: string;
  env?: Record<string, string>;
}

/** ffmpeg and ffprobe ship per platform in optional dependencies (@ffmpeg-installer/linux-x64, …). */
function npmFfmpegLike(name: BinaryName, platform: string): Shipped | undefined {
  const pkg = `@${name}-installer/${platform}`;
  const dir = packageDir(pkg);
  return dir ? { path: join(dir, name + EXE), origin: pkg } : undefined;
}

/** An ELF executable without a PT_INTERP program header is statically linked. */
function isStaticElf(path: string): boolean {
  let header: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      header = Buffer.alloc(64 * 1024);
      readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  if (header.readUInt32BE(0) !== 0x7f454c46 || header[5] !== 1) return false; // ELF, little-endian
  const is64 = header[4] === 2;
  const phoff = is64 ? Number(header.readBigUInt64LE(0x20)) : header.readUInt32LE(0x1c);
  const phentsize = header.readUInt16LE(is64 ? 0x36 : 0x2a);
  const phnum = header.readUInt16LE(is64 ? 0x38 : 0x2c);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > header.length) return false; // headers beyond what we read: assume dynamic
    if (header.readUInt32LE(at) === 3) return false; // PT_INTERP: a dynamic loader is named
  }
  return true;
}

/**
 * The static ffmpeg/ffprobe builds (the npm packages ship them) link glibc statically, and a static
 * glibc's iconv loads the system's gconv modules, built for another glibc: ffprobe dies of SIGSEGV
 * on any MPEG-TS (its service names go through iconv). An empty GCONV_PATH makes iconv fail cleanly
 * instead; names stay readable ASCII. Applies to such a build however it was found (variable, PATH).
 */
function staticGlibcEnv(path: string): Record<string, string> | undefined {
  if (process.platform !== 'linux' || !isStaticElf(path)) return undefined;
  const empty = join(cacheDir(), 'no-gconv-modules');
  mkdirSync(empty, { recursive: true });
  return { GCONV_PATH: empty };
}

function cacheDir(): string {
  for (const dir of [
    join(ROOT, 'node_modules', '.cache', 'showrunner'),
    join(tmpdir(), 'showrunner-cache'),
  ]) {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
      return dir;
    } catch {
      // not writable: try the next one
    }
  }
  throw new BinaryNotFoundError('no writable cache directory for the npm-shipped binaries');
}

/**
 * A fontconfig file for the npm Chromium: the system's configuration where there is one, its font
 * folders, then the npm DejaVu fonts, with the generic families mapped to DejaVu so pages look the
 * same on a machine with no fonts at all.
 */
function fontconfigFile(dir: string): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const fontDirs = ['/usr/share/fonts', '/usr/local/share/fonts', join(homedir(), '.fonts'), npmFontDir()]
    .filter((d): d is string => Boolean(d))
    .map((d) => `  <dir>${escape(d)}</dir>`);
  const aliases = Object.entries({
    'sans-serif': 'DejaVu Sans',
    'system-ui': 'DejaVu Sans',
    serif: 'DejaVu Serif',
    monospace: 'DejaVu Sans Mono',
  }).map(
    ([family, font]) =>
      `  <alias><family>${family}</family><prefer><family>${font}</family></prefer></alias>`,
  );
  const text = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    ...fontDirs,
    ...aliases,
    `  <cachedir>${escape(join(dir, 'fontconfig-cache'))}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
  const file = join(dir, 'fonts.conf');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

/**
 * @sparticuz/chromium ships one brotli-compressed headless Chromium for Linux x64/arm64. Its own
 * `executablePath()` unpacks to a fixed /tmp/chromium and trusts any file already there, so parallel
 * test workers or an interrupted unpack could run a half-written binary: unpack into a folder per
 * version and rename into place, which is atomic.
 */
async function npmChromium(platform: string): Promise<Shipped | undefined> {
  const pkg = '@sparticuz/chromium';
  const dir = packageDir(pkg);
  if (!dir || !['linux-x64', 'linux-arm64'].includes(platform)) return undefined;
  const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
  const target = join(cacheDir(), `chromium-${version}-${process.arch}`);
  const path = join(target, 'chromium');
  if (!existsSync(path)) {
    mkdirSync(target, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    try {
      await pipeline(
        createReadStream(join(dir, 'bin', 'chromium.br')),
        createBrotliDecompress(),
        createWriteStream(partial, { mode: 0o755 }),
      );
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  return { path, origin: pkg, env: { FONTCONFIG_FILE: fontconfigFile(target) } };
}

function notFound(name: BinaryName, platform: string, detail = ''): BinaryNotFoundError {
  const spec = SPECS[name];
  return new BinaryNotFoundError(
    `${name} not found: ${spec.neededFor} need it. No ${spec.system[0]} on PATH` +
      ` and no copy shipped in an npm package for this platform (${platform})${detail}.` +
      ` Install ${name} or set ${spec.variable} to its path.`,
  );
}

function fromVariable(name: BinaryName, env: NodeJS.ProcessEnv): Located | undefined {
  const spec = SPECS[name];
  const explicit = env[spec.variable]?.trim();
  if (!explicit) return undefined;
  if (!isExecutable(explicit))
    throw new BinaryNotFoundError(`${spec.variable}: ${explicit} is not an executable file`);
  return { name, path: explicit, source: 'variable', origin: spec.variable };
}

function fromSystem(name: BinaryName, env: NodeJS.ProcessEnv): Located | undefined {
  const found = onPath(SPECS[name].system, env.PATH ?? '');
  return found && { name, path: found.path, source: 'system', origin: found.dir };
}

type Located = Omit<ResolvedBinary, 'version' | 'env'>;

/**
 * Runs a located binary once, with the environment it needs (a static build's, plus `extraEnv`):
 * proves it starts here, and reads its version as it reports it, else (static builds report a git
 * id) the version of the npm package it sits in.
 */
function inspect(found: Located, platform: string, extraEnv?: Record<string, string>): ResolvedBinary {
  const staticEnv = found.name === 'chromium' ? undefined : staticGlibcEnv(found.path);
  const env = staticEnv || extraEnv ? { ...staticEnv, ...extraEnv } : undefined;
  let version: string;
  try {
    version = probeVersion(SPECS[found.name], found.path, env);
  } catch (error) {
    const where = {
      npm: `the copy in ${found.origin} (${found.path})`,
      system: `the system's copy (${found.path})`,
      variable: `${found.origin}=${found.path}`,
    }[found.source];
    throw new BinaryNotFoundError(
      `${found.name}: ${where} does not run on this machine (${platform}): ` +
        `${(error as Error).message.split('\n')[0]}. Set ${SPECS[found.name].variable} to a working ${found.name}.`,
    );
  }
  const pkg = join(dirname(realpathSync(found.path)), 'package.json');
  if (version === 'unknown' && existsSync(pkg))
    version =
      (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version?.replace(/\.0$/, '') ?? version;
  return { ...found, version, ...(env ? { env } : {}) };
}

function checkShipped(name: BinaryName, shipped: Shipped): void {
  if (!ensureExecutable(shipped.path))
    throw new BinaryNotFoundError(
      `${name}: the copy in ${shipped.origin} (${shipped.path}) is not executable and could not be made so;` +
        ` set ${SPECS[name].variable} to an executable ${name}`,
    );
}

/** Options: `prefer: 'npm'` skips the system's copy (CI runs the suite once more on the shipped ones). */
export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  prefer?: 'system' | 'npm';
  /** `linux-x64`, `darwin-arm64`…: which npm-shipped copy to look for (default: this machine's). */
  platform?: string;
}

async function resolve(name: BinaryName, options: ResolveOptions): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? `${process.platform}-${process.arch}`;
  const chosen = fromVariable(name, env) ?? (options.prefer === 'npm' ? undefined : fromSystem(name, env));
  if (chosen) return inspect(chosen, platform);
  const shipped = name === 'chromium' ? await npmChromium(platform) : npmFfmpegLike(name, platform);
  if (!shipped)
    throw notFound(
      name,
      platform,
      name === 'chromium' ? '; @sparticuz/chromium ships Linux x64 and arm64 only' : '',
    );
  checkShipped(name, shipped);
  return inspect({ name, source: 'npm', path: shipped.path, origin: shipped.origin }, platform, shipped.env);
}

// Resolved once per process and options: each resolution runs the binary once to check it.
const resolved = new Map<string, Promise<ResolvedBinary>>();

function resolveOnce(name: BinaryName, options: ResolveOptions = {}): Promise<ResolvedBinary> {
  const custom = Boolean(options.env || options.platform);
  const key = `${name}:${options.prefer ?? 'system'}`;
  let found = custom ? undefined : resolved.get(key);
  if (!found) {
    found = resolve(name, options);
    if (!custom) resolved.set(key, found);
    found.catch(() => resolved.delete(key)); // a failure is retried: the user may fix it meanwhile
  }
  return found;
}

export const resolveFfmpeg = (options?: ResolveOptions) => resolveOnce('ffmpeg', options);
export const resolveFfprobe = (options?: ResolveOptions) => resolveOnce('ffprobe', options);
export const resolveChromium = (options?: ResolveOptions) => resolveOnce('chromium', options);

/** `ffmpeg 4.1 (npm package @ffmpeg-installer/linux-x64)`, `ffmpeg 5.1.6 (system, /usr/bin)`. */
export function describeBinary(b: ResolvedBinary): string {
  const where =
    b.source === 'npm'
      ? `npm package ${b.origin}`
      : b.source === 'system'
        ? `system, ${b.origin}`
        : `${b.origin}=${b.path}`;
  return `${b.name} ${b.version} (${where})`;
}

const SYSTEM_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
  '/System/Library/Fonts/Menlo.ttc',
  '/Library/Fonts/Arial.ttf',
];

function npmFontDir(): string | undefined {
  const dir = packageDir('dejavu-fonts-ttf');
  return dir ? join(dir, 'ttf') : undefined;
}

export interface ResolvedFont {
  path: string;
  source: 'system' | 'npm';
}

/** A font for ffmpeg's drawtext: the system's DejaVu (or a macOS font), else the npm package's. */
export function resolveFont(candidates: readonly string[] = SYSTEM_FONTS): ResolvedFont | undefined {
  const system = candidates.find((f) => existsSync(f));
  if (system) return { path: system, source: 'system' };
  const dir = npmFontDir();
  const shipped = dir && join(dir, 'DejaVuSansMono.ttf');
  return shipped && existsSync(shipped) ? { path: shipped, source: 'npm' } : undefined;
}
