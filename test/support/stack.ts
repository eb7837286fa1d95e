// Starts the local stack the way a user does (`node local/main.ts`, here without the demo) in a
// child process, on free ports and a fresh data directory, so tests can also kill -9 it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_ROUTES } from '../../contract/api.ts';
import { REQUESTOR_ID } from '../../core/ids.ts';
import { viewerAuthorization } from './viewer.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function tempDataDir(prefix = 'showrunner-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface StackProcess {
  appUrl: string;
  apiUrl: string;
  edgeUrl: string;
  dataDir: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: what a crash looks like. */
  kill9(): Promise<void>;
}

export async function startStack(
  options: { dataDir?: string; args?: string[]; env?: Record<string, string> } = {},
): Promise<StackProcess> {
  const dataDir = options.dataDir ?? (await tempDataDir());
  const port = await freePort();
  const edgePort = await freePort();
  const child = spawn(
    process.execPath,
    // As `npm start` runs it (package.json): aws-local-stepfunctions sets a negative timer for a Wait
    // whose time has passed (a run resumed after a restart), which Node runs at once but warns about.
    [
      '--disable-warning=TimeoutNegativeWarning',
      'local/main.ts',
      '--no-demo',
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        EDGE_PORT: String(edgePort),
        RTMP_PORT: '0',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`local stack did not start in 30 s:\n${output}`)),
      30_000,
    );
    const check = () => {
      if (output.includes('ready: open')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`local stack exited with ${code}:\n${output}`));
    });
  });

  const appUrl = `http://127.0.0.1:${port}`;
  return {
    appUrl,
    apiUrl: `${appUrl}/api`,
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    dataDir,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill9() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * One API request. Votes and history reads go as the viewer they name: with that requestor_id's
 * token (test/support/viewer.ts) when the stack's data directory is known, unless `authorization`
 * says otherwise (null: none).
 */
export async function api(
  stack: { apiUrl: string; dataDir?: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  options: { authorization?: string | null } = {},
): Promise<{ status: number; json: any }> {
  const authorization =
    options.authorization !== undefined ? options.authorization : signedAs(stack, path, body);
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(authorization ? { authorization } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** The token of the viewer a vote or history read names, if there is one to sign. */
function signedAs(stack: { dataDir?: string }, path: string, body: unknown): string | null {
  if (!stack.dataDir) return null;
  let requestor: unknown;
  if (path.startsWith(API_ROUTES.vote)) {
    try {
      requestor = (typeof body === 'string' ? JSON.parse(body) : (body as Record<string, unknown>))
        ?.requestor_id;
    } catch {
      return null;
    }
  } else if (path.startsWith(API_ROUTES.history)) {
    requestor = new URLSearchParams(path.split('?')[1] ?? '').get('requestor_id');
  }
  return typeof requestor === 'string' && REQUESTOR_ID.test(requestor)
    ? viewerAuthorization({ dataDir: stack.dataDir }, requestor)
    : null;
}
