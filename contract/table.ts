// The one DynamoDB table: its keys, index, TTL and every item kind's key, used by CDK, the local
// setup, the store, the CLI, the state machine (statemachine/show.asl.json writes the '#cue' item)
// and the tests. Item kinds share the partition `poll_id`; the sort key `requestor_id` holds a
// viewer id for answers and a '#'-prefixed marker for the other items (viewer ids never start with '#').

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

/** The poll item: question, answers, state, opened_at, closes_at, correct, run_id (no timestamp_created, so the GSI stays sparse). */
export const POLL_ITEM_KEY = '#poll';
/** The running tally: one counter per answer, updated with ADD. */
export const TALLY_ITEM_KEY = '#tally';
/**
 * The cue item the state machine's WaitForCue state writes for a manual question
 * ({poll_id, requestor_id: '#cue', run_id, question, task_token}); `showrunner cue` claims it
 * (sets cued_at) and sends the task token back. A test checks the definition uses this key.
 */
export const CUE_ITEM_KEY = '#cue';
/** The pointer to the most recently opened poll, for viewers who join mid-poll: partition '#current'. */
export const CURRENT_POLL_PARTITION = '#current';
/** Answers are kept 90 days, like Step Functions keeps execution history. */
export const ANSWER_TTL_SECONDS = 90 * 24 * 3600;

/** An answer item; the API's POST /requestor-put answers with it (contract/api.ts VoteResponse). */
export interface AnswerItem {
  poll_id: string;
  requestor_id: string;
  answer: number;
  timestamp_created: number;
  timestamp_ttl: number;
}

/** The CreateTable input (plain data, so the contract stays free of the SDK). */
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
