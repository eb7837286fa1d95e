// Reading one partition whole: the close's recount (a poll's answer shard) and its standings (a
// run's score shard) both need every item written before the read, so the Query is strongly
// consistent and follows LastEvaluatedKey to the end.
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Every item of `partition` (only the `projection` attributes), strongly consistent, in key order. */
export async function readPartition<T>(
  db: DynamoDBDocumentClient,
  table: string,
  partition: string,
  projection: string,
): Promise<T[]> {
  const items: T[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'poll_id = :p',
        ExpressionAttributeValues: { ':p': partition },
        ProjectionExpression: projection,
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as T[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
