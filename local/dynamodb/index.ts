// Local DynamoDB: dynalite (a pure-Node implementation over LevelDB) persisted under the data
// directory, answering DynamoDB's JSON 1.0 protocol on the edge endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  DescribeTableCommand,
  CreateTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../core/table.ts';
import { closeServer, listen, type EdgeService } from '../http.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: {
  path?: string;
  createTableMs?: number;
}) => import('node:http').Server;

export interface LocalDynamoDb {
  edge: EdgeService;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(dataDir: string): Promise<LocalDynamoDb> {
  await mkdir(dataDir, { recursive: true });
  const server = dynalite({ path: dataDir, createTableMs: 0 });
  // dynalite only closes its LevelDB when its own server closes, so it listens on a throwaway
  // loopback port; requests reach its handler in-process through the edge endpoint.
  await listen(server, 0);
  const handle = server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  return {
    edge: {
      name: 'dynamodb',
      matches: (req) => String(req.headers['x-amz-target'] ?? '').startsWith('DynamoDB_20120810.'),
      handle: (req, res) => handle(req, res),
    },
    close: () => closeServer(server),
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
