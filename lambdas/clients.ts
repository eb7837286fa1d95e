// The AWS clients the Lambdas share, built by functions (nothing happens at import). In the cloud the
// Lambda entry files call them with no arguments, so the SDK takes region and credentials from the
// Lambda's environment; the local stack and the tests pass a client with an explicit endpoint.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The document client over `client`, with the one marshalling policy of the code base: attributes
 * left undefined are dropped rather than refused. Whoever made `client` destroys it (the document
 * client's destroy() does nothing).
 */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
