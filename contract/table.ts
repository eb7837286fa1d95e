// The one DynamoDB table: its keys, index, TTL and every item kind's key, used by CDK, the local
// setup, the store, the CLI, the state machine (statemachine/show.asl.json writes the '#cue' item)
// and the tests. The sort key `requestor_id` holds a viewer id for answers and a '#'-prefixed marker
// for the other items (viewer ids never start with '#'). The poll's own items ('#poll', '#cue') sit
// under the partition `poll_id = <pollId>`; its answers and tally counters are spread over the
// shard partitions `poll_id = <pollId>#<shard>` (see VOTE_SHARDS below and docs/sharding.md).

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
/** A shard's running tally, in each shard partition: one counter per answer, updated with ADD. */
export const TALLY_ITEM_KEY = '#tally';
/**
 * The cue item the state machine's WaitForCue state writes for a manual question
 * ({poll_id, requestor_id: '#cue', run_id, question, task_token}); `showrunner cue` claims it
 * (sets cued_at) and sends the task token back. A test checks the definition uses this key.
 */
export const CUE_ITEM_KEY = '#cue';
/**
 * The pointer to a channel's most recently opened poll, for viewers who join mid-poll: partition
 * '#current#<channel id>' (two shows on two channels each have their own).
 */
export function currentPollPartition(channelId: string): string {
  return `#current#${channelId}`;
}
/**
 * The claim on an IVS channel: one running show per channel. Partition '#channel#<channel id>', sort
 * key '#claim', holding the run that has the channel (run_id, execution_arn, show_id, title,
 * channel_arn, start_at, claimed_at, lease_until). The state machine's Plan step writes it with a
 * conditional put (no holder, already this run's, or past its lease) and every end of the run
 * removes run_id (keeping released_run_id, released_at) on the condition that it is still this
 * run's (store/channels.ts).
 */
export const CHANNEL_CLAIM_KEY = '#claim';
export function channelClaimPartition(channelId: string): string {
  return `#channel#${channelId}`;
}
/**
 * A run's own item: partition '#run#<run id>', sort key '#run', holding the channel it runs on
 * (channel_arn, execution_arn) and, for quiz scoring (store/scores.ts), `quiz_polls` (string set of
 * its quiz questions' poll ids, written at Plan), `closed_quiz` (those closed so far, ADD at each
 * close) and `score_shards` (set once, when its first question opens). Written at Plan, before the claim, so an end of the run that the
 * state machine does not see (a stop, a timeout: the EventBridge rule) finds the channel to release
 * and to send its last results to. Kept ANSWER_TTL_SECONDS, like answers.
 */
export const RUN_ITEM_KEY = '#run';
export function runPartition(runId: string): string {
  return `#run#${runId}`;
}
/**
 * A player's score in a run (issue 22): partition '#score#<runId>#<shard>', sort key the viewer id,
 * holding `score`, `total_ms` (ADD), `answered` (string set of the quiz questions' local ids, the
 * condition that makes a retried update harmless), `first_at` (epoch ms) and `timestamp_ttl`. No
 * `timestamp_created`, so it stays out of the requestor index. The shard is shardOf(viewer id,
 * `score_shards`), a count fixed on the run item when its first question opens, so each score key
 * takes at most its share of a vote storm, like a vote shard (VOTE_WRITE_UNITS does not include it:
 * it is another key).
 */
export function scorePartition(runId: string, shard: number): string {
  return `#score#${runId}#${shard}`;
}
/**
 * A viewer's name (issue 22): partition '#viewer#<viewer id>', sort key '#name', holding `nickname`
 * (checked and normalised, core/nickname.ts), `hidden` (a producer hid it) and `timestamp_ttl`.
 */
export const NAME_ITEM_KEY = '#name';
export function viewerPartition(requestorId: string): string {
  return `#viewer#${requestorId}`;
}
/** Answers are kept 90 days, like Step Functions keeps execution history. */
export const ANSWER_TTL_SECONDS = 90 * 24 * 3600;

// ---- Votes spread over partitions ---------------------------------------------------------------
// DynamoDB serves at most 1,000 write units/s per partition, and a partition key value (with all
// its items) is served by one partition until "split for heat" reacts, which takes longer than a
// poll's vote storm lasts; a single item never goes past 1,000/s. So a poll's answers and counters
// do not share one key: a vote goes to the shard partition `<pollId>#<shard>`, the shard derived
// from requestor_id (core/shard.ts), where it costs the answer's conditional put (1 unit, items are
// < 1 KB) and the shard counter's ADD (1 unit). The GSI's write goes to the viewer's own
// requestor_id partition. With the peak spread evenly over N shards, each shard key takes
// 2 × peak / N write units/s; N keeps that at half the limit or less (hash skew, SDK retries, and
// several keys sharing one physical partition leave the rest as headroom).

/** Write units one partition (so one partition key value, one item) serves per second. */
export const PARTITION_WRITE_UNITS_PER_SECOND = 1000;
/** Write units a vote costs on its shard key: the answer's put and the shard counter's ADD. */
export const VOTE_WRITE_UNITS = 2;
/** The share of PARTITION_WRITE_UNITS_PER_SECOND a shard key is sized to take at the expected peak. */
export const SHARD_LOAD_TARGET = 0.5;
/** At most 100 shards: the live tally reads every shard counter in one BatchGetItem (≤ 100 keys). */
export const MAX_VOTE_SHARDS = 100;
/** The design audience's peak (100,000 viewers, 60 % answering within 8 s: peaks near 15,000 votes/s). */
export const DESIGN_PEAK_VOTES_PER_SECOND = 15_000;

/** How many shards keep each shard key at SHARD_LOAD_TARGET of the partition limit at this peak. */
export function voteShardsFor(peakVotesPerSecond: number): number {
  const perShard = PARTITION_WRITE_UNITS_PER_SECOND * SHARD_LOAD_TARGET;
  const needed = Math.ceil((peakVotesPerSecond * VOTE_WRITE_UNITS) / perShard);
  return Math.min(MAX_VOTE_SHARDS, Math.max(1, needed));
}

/**
 * The shard count a poll is opened with unless VOTE_SHARDS (the lifecycle Lambda's setting) says
 * otherwise: 60 for the design peak, 500 write units/s per shard key. It is stored on the poll item
 * (`vote_shards`) at open, so a poll keeps its layout whatever the setting later becomes.
 */
export const DEFAULT_VOTE_SHARDS = voteShardsFor(DESIGN_PEAK_VOTES_PER_SECOND);

/** The partition key of one shard of a poll's answers and counters. Poll ids never contain '#'. */
export function shardPartitionKey(pollId: string, shard: number): string {
  return `${pollId}#${shard}`;
}

/**
 * An answer item as stored. `poll_id` is the shard partition (`<pollId>#<shard>`) and
 * `plain_poll_id` the poll's own id, which history (through the GSI) shows the viewer.
 */
export interface AnswerItem {
  poll_id: string;
  plain_poll_id: string;
  requestor_id: string;
  answer: number;
  timestamp_created: number;
  timestamp_ttl: number;
  /** Quiz questions only: what the answer earned (core/scoring.ts scoreVote). Never shown before the reveal. */
  points?: number;
  /** Quiz questions only: the answer time the server accepted (boundElapsed), ms. */
  elapsed_ms?: number;
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
