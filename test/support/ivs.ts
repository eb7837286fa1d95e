// The local IVS on its own, as the stream tests (test/ivs/) and the soak bench (bench/ivs/soak.ts)
// run it: behind its own edge and app servers on free ports, with an IVS SDK client pointed at it, in
// a data directory of its own that close() removes. Also a disk that can be made full on demand.
import { IvsClient } from '@aws-sdk/client-ivs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServer, createAppServer, createEdgeServer, listen, type AppRoute } from '../../local/http.ts';
import {
  createLocalIvs,
  type LocalIvs,
  type LocalIvsOptions,
  type SegmentFiles,
} from '../../local/ivs/index.ts';
import { freePort } from './stack.ts';

export interface IvsHarness {
  ivs: LocalIvs;
  client: IvsClient;
  appUrl: string;
  edgeUrl: string;
  dataDir: string;
  /** The log lines, when no `log` was passed to startIvs. */
  logs: string[];
  /** Stops the IVS and its servers and removes the data directory (once, however often called). */
  close(): Promise<void>;
}

export interface IvsHarnessOptions {
  /** Routes of the app server besides the IVS's own /live/ (a test page…). */
  routes?: AppRoute[];
  /** Where the log lines go; by default they are kept in `logs` (a long run passes its own). */
  log?: (line: string) => void;
}

/**
 * The local IVS with `options` (its data directory goes under options.dataDir when given, e.g. a
 * small file system; rtmpPort defaults to a free port).
 */
export async function startIvs(
  options: Partial<LocalIvsOptions> = {},
  { routes = [], log: onLog }: IvsHarnessOptions = {},
): Promise<IvsHarness> {
  const dataDir = await mkdtemp(join(options.dataDir ?? tmpdir(), 'ivs-test-'));
  const logs: string[] = [];
  const log = onLog ?? ((line: string) => logs.push(line));
  // The app URL must be known before the channels are created (playback URLs are absolute): listen first.
  const live: { route?: AppRoute } = {};
  const app = createAppServer(
    [{ prefix: '/live/', handle: (req, res) => live.route!.handle(req, res) }, ...routes],
    log,
  );
  const appUrl = `http://127.0.0.1:${await listen(app, 0)}`;
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
