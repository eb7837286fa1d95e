// The local DynamoDB (dynalite over LevelDB) and the file system: a full disk fails the write that
// hit it, as a DynamoDB error, and nothing else (acknowledged items stay, the stack keeps serving);
// a client that leaves mid-request is nobody's problem; a damaged or busy database stops startup
// with one line that says what to do.
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdir, rm, symlink, unlink, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../../contract/table.ts';
import { startLocalDynamoDb } from '../../local/dynamodb/index.ts';
import { ROOT, startStack, tempDataDir, type StackProcess } from '../support/stack.ts';
import { openSocket } from './support.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function dynamo(stack: StackProcess): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint: stack.edgeUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1, // a 500 is what the test looks at, not what the SDK's retries make of it
  });
  cleanups.push(async () => client.destroy());
  return client;
}

const key = (sk: string) => ({ [TABLE.partitionKey]: { S: 'disk-test' }, [TABLE.sortKey]: { S: sk } });
const put = (client: DynamoDBClient, sk: string, data: string) =>
  client.send(new PutItemCommand({ TableName: TABLE.defaultName, Item: { ...key(sk), data: { S: data } } }));
const get = async (client: DynamoDBClient, sk: string) =>
  (
    await client.send(
      new GetItemCommand({ TableName: TABLE.defaultName, Key: key(sk), ConsistentRead: true }),
    )
  ).Item?.data?.S;

/**
 * Makes the next write-ahead logs LevelDB opens /dev/full, where every write fails with ENOSPC:
 * the disk is full from the next log switch on (LevelDB switches logs every ~4 MB written).
 */
async function fillDiskFromNextLog(dbDir: string): Promise<string[]> {
  const numbers = (await readdir(dbDir)).map((f) => parseInt(f, 10)).filter(Number.isFinite);
  const links: string[] = [];
  for (let n = Math.max(...numbers) + 1; n <= Math.max(...numbers) + 60; n++) {
    const link = join(dbDir, `${String(n).padStart(6, '0')}.log`);
    await symlink('/dev/full', link);
    links.push(link);
  }
  return links;
}

/** Runs `node local/main.ts` as a user does and waits for it to exit. */
function runMain(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['local/main.ts', '--no-demo', '--data-dir', dataDir], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', EDGE_PORT: '0', RTMP_PORT: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local/main.ts did not exit within 30 s:\n${stdout}\n${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a full disk under the local DynamoDB', () => {
  it('fails that write with a 500 InternalServerError, keeps acknowledged items, and keeps serving', async () => {
    const stack = await startStack();
    cleanups.push(() => stack.stop());
    const client = dynamo(stack);
    for (const sk of ['a', 'b', 'c']) await put(client, sk, `acknowledged ${sk}`);

    const links = await fillDiskFromNextLog(join(stack.dataDir, 'dynamodb'));
    cleanups.push(() => Promise.all(links.map((l) => unlink(l).catch(() => {}))));
    const big = 'x'.repeat(380_000);
    let failure: (Error & { $metadata?: { httpStatusCode?: number } }) | undefined;
    const written: string[] = [];
    for (let i = 0; i < 30 && !failure; i++) {
      try {
        await put(client, `big-${i}`, big);
        written.push(`big-${i}`);
      } catch (error) {
        failure = error as typeof failure;
      }
    }
    expect(failure?.name).toBe('InternalServerError');
    expect(failure?.$metadata?.httpStatusCode).toBe(500);
    expect(failure?.message).toBe('Internal server error (LEVEL_IO_ERROR)');
    // Every later write fails the same way (LevelDB stops writing after an I/O error); reads go on.
    await expect(put(client, 'after', 'x')).rejects.toMatchObject({ name: 'InternalServerError' });
    for (const sk of ['a', 'b', 'c']) expect(await get(client, sk)).toBe(`acknowledged ${sk}`);
    expect((await client.send(new ListTablesCommand({}))).TableNames).toContain(TABLE.defaultName);
    expect((await fetch(`${stack.apiUrl}/poll-current?channel=local`)).status).toBe(404);
    expect(stack.child.exitCode).toBeNull();
    expect(stack.output()).toMatch(/local DynamoDB: LEVEL_IO_ERROR: .*No space left on device/);

    // The disk has room again after a restart: everything acknowledged is there.
    expect(await stack.stop()).toBe(0);
    await Promise.all(links.map((l) => unlink(l).catch(() => {})));
    const again = await startStack({ dataDir: stack.dataDir });
    cleanups.push(() => again.stop());
    const reader = dynamo(again);
    for (const sk of ['a', 'b', 'c']) expect(await get(reader, sk)).toBe(`acknowledged ${sk}`);
    for (const sk of written) expect(await get(reader, sk)).toBe(big);
    await put(reader, 'after', 'written');
    expect(await get(reader, 'after')).toBe('written');
  }, 120_000);

  it('lives through a client that leaves in the middle of a request', async () => {
    const stack = await startStack();
    cleanups.push(() => stack.stop());
    const client = await openSocket(
      Number(new URL(stack.edgeUrl).port),
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n' +
        'Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n{"Limit"',
    );
    await new Promise((r) => setTimeout(r, 200));
    client.socket.destroy();
    await client.closed;
    await new Promise((r) => setTimeout(r, 500));
    expect(stack.child.exitCode).toBeNull();
    expect((await dynamo(stack).send(new ListTablesCommand({}))).TableNames).toContain(TABLE.defaultName);
  }, 60_000);
});

describe('a database that cannot be opened', () => {
  /** A data directory whose DynamoDB store exists (made by the real code) and is then damaged. */
  async function damagedDataDir(damage: (dbDir: string, files: string[]) => Promise<void>): Promise<string> {
    const dataDir = await tempDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const dbDir = join(dataDir, 'dynamodb');
    await (await startLocalDynamoDb(dbDir)).close();
    await damage(dbDir, await readdir(dbDir));
    return dataDir;
  }

  it.each([
    [
      'garbage in CURRENT',
      (dbDir: string) => writeFile(join(dbDir, 'CURRENT'), 'garbage\n'),
      /IO error: .*garbage: No such file or directory/,
    ],
    [
      'garbage in the MANIFEST',
      async (dbDir: string, files: string[]) => {
        const manifest = files.find((f) => f.startsWith('MANIFEST-'))!;
        expect((await lstat(join(dbDir, manifest))).isFile()).toBe(true);
        await writeFile(join(dbDir, manifest), Buffer.alloc(64, 0x5a));
      },
      /Corruption: /,
    ],
  ])(
    'stops startup on %s with one line naming the directory to move aside',
    async (_name, damage, cause) => {
      const dataDir = await damagedDataDir(damage);
      const { code, stdout, stderr } = await runMain(dataDir);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^showrunner: the database in .*\/dynamodb cannot be opened \(/);
      expect(lines[0]).toMatch(cause);
      expect(lines[0]).toContain(`: move ${dataDir} aside (mv ${dataDir} ${dataDir}.broken)`);
      expect(stderr).not.toMatch(/^\s+at /m);
    },
    60_000,
  );

  it('says so when another local stack is using the same data directory', async () => {
    const stack = await startStack();
    cleanups.push(() => stack.stop());
    const { code, stderr } = await runMain(stack.dataDir);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `showrunner: the database in ${join(stack.dataDir, 'dynamodb')} is in use by another process: is another local stack running on ${stack.dataDir}?`,
    );
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);
});
