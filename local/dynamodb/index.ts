// Local DynamoDB: dynalite (a pure-Node implementation over LevelDB) persisted under the data
// directory, answering DynamoDB's JSON 1.0 protocol on the edge endpoint.
//
// dynalite throws what it does not expect (a LevelDB I/O error such as a full disk, a request
// stream error, an internal bug) from inside its callbacks, which would take the whole stack down.
// So its requests are contained here: the body is read with a cap, handed over on a request object
// that never emits 'error', and every LevelDB error becomes a DynamoDB InternalServerError answer
// for that one request. The database is opened before anything is served, so a damaged one stops
// startup with a sentence instead of a stack trace.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  DescribeTableCommand,
  CreateTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../contract/table.ts';
import { BodyTooLargeError, readBody, sendJson, type EdgeService } from '../http.ts';
import type { DynamoDbTap } from '../meter.ts';

const require = createRequire(import.meta.url);

type Callback = (error: Error | null, value?: unknown) => void;
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The parts of dynalite's store (dynalite/db) this module reaches into. */
interface DynaliteDb {
  open(): Promise<void>;
  close(callback: Callback): void;
  put(key: string, value: unknown, callback: Callback): void;
  get(key: string, callback: Callback): void;
  del(key: string, callback: Callback): void;
  batch(operations: unknown[], callback: Callback): void;
  keys(options?: unknown): AsyncIterator<unknown>;
  values(options?: unknown): AsyncIterator<unknown>;
}
interface DynaliteStore {
  db: DynaliteDb;
}

const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number }) => {
  listeners(event: 'request'): Handler[];
};
/** The same module instance dynalite itself loads (`require('./db')` next to its index.js). */
const dynaliteDb = require(join(dirname(require.resolve('dynalite')), 'db')) as {
  create(options: object): DynaliteStore;
};

/** dynalite's own request cap, which real DynamoDB shares (16 MB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

/** The local state cannot be used; the message says what is wrong and what to do, in one line. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface LocalDynamoDbOptions {
  log?: (line: string) => void;
  /** What a user moves aside to start afresh when the database is damaged (default: its directory). */
  stateDir?: string;
  /** Sees every request before dynalite does (local/meter.ts); absent, nothing is metered. */
  tap?: DynamoDbTap;
}

export interface LocalDynamoDb {
  edge: EdgeService;
  close(): Promise<void>;
}

/** dynalite's request handler and its store (which it keeps to itself). */
function createDynalite(path: string): { handle: Handler; store: DynaliteStore } {
  const create = dynaliteDb.create;
  let store: DynaliteStore | undefined;
  dynaliteDb.create = (options) => (store = create(options));
  try {
    // dynalite's HTTP server is never started: its handler is called from the edge endpoint.
    const server = dynalite({ path, createTableMs: 0 });
    return { handle: server.listeners('request')[0]!, store: store! };
  } finally {
    dynaliteDb.create = create;
  }
}

/**
 * A LevelDB error as dynalite answers it: it sends errors that carry `statusCode` and `body`
 * (as its own validation errors do) and throws the others.
 */
function asDynamoDbError(error: Error, log: (line: string) => void): Error {
  const closed = error.message === 'Database is closed'; // dynalite's words for LEVEL_DATABASE_NOT_OPEN
  const code = (error as { code?: string }).code ?? error.name;
  if (!closed) log(`local DynamoDB: ${code}: ${error.message}`);
  return Object.assign(error, {
    statusCode: closed ? 503 : 500,
    body: closed
      ? { __type: `${ERROR_PREFIX}ServiceUnavailable`, message: 'The local database is closed' }
      : { __type: `${ERROR_PREFIX}InternalServerError`, message: `Internal server error (${code})` },
  });
}

/** Routes every LevelDB failure dynalite can meet (writes, reads, scans) through asDynamoDbError. */
function containStoreErrors(db: DynaliteDb, log: (line: string) => void): void {
  const wrap = (callback: Callback): Callback => {
    return (error, value) => callback(error ? asDynamoDbError(error, log) : null, value);
  };
  const put = db.put.bind(db);
  const get = db.get.bind(db);
  const del = db.del.bind(db);
  const batch = db.batch.bind(db);
  db.put = (key, value, callback) => put(key, value, wrap(callback));
  db.get = (key, callback) => get(key, wrap(callback));
  db.del = (key, callback) => del(key, wrap(callback));
  db.batch = (operations, callback) => batch(operations, wrap(callback));
  for (const method of ['keys', 'values'] as const) {
    const open = db[method].bind(db);
    db[method] = (options) => {
      const iterator = open(options);
      const next = iterator.next.bind(iterator);
      iterator.next = () =>
        next().catch((error: unknown) => {
          throw error instanceof Error ? asDynamoDbError(error, log) : error;
        });
      return iterator;
    };
  }
}

/** Opens the LevelDB store now, so a damaged or busy one is reported before anything is served. */
async function openStore(store: DynaliteStore, dataDir: string, stateDir: string): Promise<void> {
  try {
    await store.db.open();
  } catch (error) {
    // LEVEL_DATABASE_NOT_OPEN, caused by LEVEL_CORRUPTION, LEVEL_IO_ERROR or LEVEL_LOCKED.
    const cause = ((error as Error).cause ?? error) as Error & { code?: string };
    if (cause.code === 'LEVEL_LOCKED')
      throw new DataDirError(
        `the database in ${dataDir} is in use by another process: is another local stack running on ${stateDir}?`,
      );
    throw new DataDirError(
      `the database in ${dataDir} cannot be opened (${cause.message}): move ${stateDir} aside (mv ${stateDir} ${stateDir}.broken) to start with empty state`,
    );
  }
}

/** dynalite's handler on a request object of our own, fed the capped body, that never emits 'error'. */
async function handOver(
  handle: Handler,
  req: IncomingMessage,
  res: ServerResponse,
  log: (line: string) => void,
  tap: DynamoDbTap | undefined,
): Promise<void> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_REQUEST_BYTES);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    sendJson(
      res,
      413,
      { __type: 'com.amazon.coral.service#RequestEntityTooLargeException', message: error.message },
      { connection: 'close' },
    );
    return;
  }
  if (tap && !observe(tap, req, res, body)) return;
  const request = Object.assign(new EventEmitter(), {
    method: req.method,
    url: req.url,
    headers: req.headers,
  }) as unknown as IncomingMessage;
  try {
    handle(request, res);
    if (body.length > 0) request.emit('data', body);
    request.emit('end');
  } catch (error) {
    // Thrown by dynalite while validating or dispatching (it does so for errors it did not expect).
    log(`local DynamoDB: ${(error as Error).stack ?? String(error)}`);
    if (!res.headersSent)
      sendJson(res, 500, { __type: `${ERROR_PREFIX}InternalServerError`, message: 'Internal server error' });
  }
}

/**
 * Shows the request to the tap: false when the tap refused it (its answer is sent), else true and
 * the tap hears the status and error type of dynalite's answer.
 */
function observe(tap: DynamoDbTap, req: IncomingMessage, res: ServerResponse, body: Buffer): boolean {
  const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  const { refuse, done } = tap.request(operation, body);
  if (refuse) {
    sendJson(res, refuse.status, { __type: `${ERROR_PREFIX}${refuse.type}`, message: refuse.message });
    return false;
  }
  if (done) {
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const chunk = args[0];
      const type =
        res.statusCode === 200 || chunk === undefined || typeof chunk === 'function'
          ? undefined
          : /#(\w+)"/.exec(String(chunk))?.[1];
      done(res.statusCode, type);
      return end(...args);
    }) as ServerResponse['end'];
  }
  return true;
}

export async function startLocalDynamoDb(
  dataDir: string,
  options: LocalDynamoDbOptions = {},
): Promise<LocalDynamoDb> {
  const log = options.log ?? (() => {});
  await mkdir(dataDir, { recursive: true });
  const { handle, store } = createDynalite(dataDir);
  await openStore(store, dataDir, options.stateDir ?? dataDir);
  containStoreErrors(store.db, log);
  return {
    edge: {
      name: 'dynamodb',
      matches: (req) => String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_20120810.'),
      handle: (req, res) => handOver(handle, req, res, log, options.tap),
    },
    // Waits for pending writes, then closes LevelDB (dynalite's lifecycle manager).
    close: () => new Promise((resolve, reject) => store.db.close((e) => (e ? reject(e) : resolve()))),
  };
}

/** Creates the table from the shared spec unless it exists (a restart keeps the data). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'exists';
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await client.send(new CreateTableCommand(createTableInput(tableName)));
  return 'created';
}
