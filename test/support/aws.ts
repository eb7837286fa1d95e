// In-process AWS clients for a running local stack, configured explicitly (nothing is read from or
// written to this process's environment), and the poll lifecycle Lambda built on them as the local
// stack builds it.
import { IvsClient } from '@aws-sdk/client-ivs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../store/clients.ts';
import { localClientConfig } from '../../local/server.ts';
import {
  pollLifecycle,
  pollLifecycleConfigFromEnv,
  type PollLifecycle,
} from '../../lambdas/poll-lifecycle.ts';
import { PollStore } from '../../store/polls.ts';

export const TABLE_NAME = 'showrunner-polls';

export interface StackTable {
  client: DynamoDBClient;
  /** The document client the store uses. */
  db: DynamoDBDocumentClient;
  store: PollStore;
  /** An IVS client of the stack's edge, as the lifecycle Lambda has (no SDK retries). */
  ivs: IvsClient;
  /** The lifecycle Lambda's steps (open, close…) on this table, with its default settings. */
  lifecycle: PollLifecycle;
  destroy(): void;
}

/** The stack's table through the store the Lambdas use. */
export function stackTable(stack: { edgeUrl: string }, tableName = TABLE_NAME): StackTable {
  const client = new DynamoDBClient(localClientConfig(stack.edgeUrl));
  const db = documentClient(client);
  const store = new PollStore(db, tableName);
  const config = pollLifecycleConfigFromEnv({ TABLE_NAME: tableName });
  const ivs = new IvsClient({ ...localClientConfig(stack.edgeUrl), maxAttempts: 1 });
  return {
    client,
    db,
    store,
    ivs,
    lifecycle: pollLifecycle({ store, ivs, config }),
    destroy: () => {
      client.destroy();
      ivs.destroy();
    },
  };
}
