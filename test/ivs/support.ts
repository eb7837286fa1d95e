// Shared setup of the stream tests: the local IVS behind its own edge and app servers on free ports,
// an IVS SDK client pointed at it, and small waiting helpers (conditions with timeouts, never sleeps
// asserted on: the CI machine has 2 loaded cores).
import { IvsClient } from '@aws-sdk/client-ivs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, createAppServer, createEdgeServer, listen, type AppRoute } from '../../local/http.ts';
import {
  createLocalIvs,
  type LocalIvs,
  type LocalIvsOptions,
  type SegmentFiles,
} from '../../local/ivs/index.ts';

export interface IvsHarness {
  ivs: LocalIvs;
  client: IvsClient;
  appUrl: string;
  edgeUrl: string;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startIvs(
  options: Partial<LocalIvsOptions> = {},
  extraRoutes: AppRoute[] = [],
): Promise<IvsHarness> {
  // A data directory of the test's own (under options.dataDir when given, e.g. a small file system).
  const dataDir = await mkdtemp(join(options.dataDir ?? tmpdir(), 'ivs-test-'));
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  // The app URL must be known before the channels are created (playback URLs are absolute): listen first.
  const live: { route?: AppRoute } = {};
  const app = createAppServer(
    [{ prefix: '/live/', handle: (req, res) => live.route!.handle(req, res) }, ...extraRoutes],
    log,
  );
  const appPort = await listen(app, 0);
  const appUrl = `http://127.0.0.1:${appPort}`;
  const ivs = await createLocalIvs({
    appBaseUrl: appUrl,
    log,
    rtmpPort: await freePort(),
    ...options,
    dataDir,
  });
  live.route = ivs.route;
  const edge = createEdgeServer([ivs.edge], log);
  const edgeUrl = `http://127.0.0.1:${await listen(edge, 0)}`;
  const client = new IvsClient({
    endpoint: edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1, // surface throttling instead of retrying it away
  });
  let closing: Promise<void> | undefined;
  return {
    ivs,
    client,
    appUrl,
    edgeUrl,
    dataDir,
    logs,
    close() {
      // Once, however often a test's cleanup asks.
      closing ??= (async () => {
        client.destroy();
        await ivs.close();
        await Promise.all([closeServer(app), closeServer(edge)]);
        await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

export { waitFor } from '../support/wait.ts';

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The disk, except that while `full` every write leaves a 0-byte file and fails with ENOSPC, as a full disk does. */
export class FillableDisk implements SegmentFiles {
  full = false;
  failures = 0;
  async write(file: string, data: Buffer): Promise<void> {
    if (!this.full) return writeFile(file, data);
    this.failures++;
    await writeFile(file, '');
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
  }
  remove(file: string): Promise<void> {
    return unlink(file);
  }
}
