// The one DynamoDB table: its keys, index and TTL, used by CDK, the local setup and the tests.
// Item kinds share the partition `poll_id`; the sort key `requestor_id` holds a viewer id for
// answers and a '#'-prefixed marker for the poll and tally items (viewer ids never start with '#').

export const TABLE = {
  defaultName: 'showrunner-polls',
  partitionKey: 'poll_id',
  sortKey: 'requestor_id',
  requestorIndex: {
    name: 'requestor_id-timestamp_created-index',
    partitionKey: 'requestor_id',
    sortKey: 'timestamp_created',
  },
  ttlAttribute: 'timestamp_ttl',
} as const;

export const POLL_ITEM_KEY = '#poll';
export const TALLY_ITEM_KEY = '#tally';
/** The pointer to the most recently opened poll, for viewers who join mid-poll: partition '#current'. */
export const CURRENT_POLL_PARTITION = '#current';
/** Answers are kept 90 days, like Step Functions keeps execution history. */
export const ANSWER_TTL_SECONDS = 90 * 24 * 3600;

/** The CreateTable input (plain data, so core stays free of the SDK). */
export function createTableInput(tableName: string) {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: TABLE.partitionKey, AttributeType: 'S' as const },
      { AttributeName: TABLE.sortKey, AttributeType: 'S' as const },
      { AttributeName: TABLE.requestorIndex.sortKey, AttributeType: 'N' as const },
    ],
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.requestorIndex.name,
        KeySchema: [
          { AttributeName: TABLE.requestorIndex.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: TABLE.requestorIndex.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      },
    ],
  };
}
