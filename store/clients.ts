// The one way to a DynamoDB document client: every reader and writer of the table (the Lambdas, the
// producer's tools through their target, the local stack, the benchmarks and the tests) builds its
// client here, so the table is marshalled the same way in the cloud and locally. Nothing happens at
// import: in the cloud the Lambda entry files call these with no config, so the SDK takes region and
// credentials from the Lambda's environment; the local stack and the tests pass an explicit endpoint.
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';

/** The one marshalling policy of the code base: attributes left undefined are dropped rather than refused. */
export const MARSHALLING: TranslateConfig = { marshallOptions: { removeUndefinedValues: true } };

/**
 * The document client over `client`. Whoever made `client` destroys it (the document client's
 * destroy() does nothing).
 */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, MARSHALLING);
}

/** A document client with a DynamoDB client of its own, and the way to end both. */
export interface TableClient {
  db: DynamoDBDocumentClient;
  destroy(): void;
}

/** A new DynamoDB client for `config` (the SDK's defaults when empty) under documentClient. */
export function tableClient(config: DynamoDBClientConfig = {}): TableClient {
  const client = new DynamoDBClient(config);
  return { db: documentClient(client), destroy: () => client.destroy() };
}
