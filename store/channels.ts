// Who has an IVS channel: one running show per channel. The claim is one item per channel
// ('#channel#<channel id>' / '#claim', contract/table.ts) naming the run that holds it. The state
// machine's Plan step takes it with a conditional put — free, already this run's (a retried or
// replayed Plan), or past its lease — so two runs can never both pass Plan on one channel, however
// they were started (CLI, control room, producer API, demo loop, Step Functions console). Every end
// of the run gives it back with an update conditioned on it still being this run's (the item stays,
// naming the last run as released_run_id, with no holder), so a late release never frees a channel
// another run has since taken. Plain UpdateItem and PutItem: the roles that call these have them.
//
// A claim whose holder ended without giving it back (a crash between its end and the release):
// the state machine has no Step Functions read access, so Plan honours the claim's lease — the
// latest time the holder's plan could still be running — and takes the channel after it. The
// producer's tools, which may call DescribeExecution, free it sooner (ops/channel.ts).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  ANSWER_TTL_SECONDS,
  CHANNEL_CLAIM_KEY,
  channelClaimPartition,
  RUN_ITEM_KEY,
  runPartition,
} from '../contract/table.ts';

/** The run that holds a channel. Times are ISO 8601. */
export interface ChannelClaim {
  channelId: string;
  channelArn: string;
  runId: string;
  /** The holder's execution: the producer's tools ask Step Functions whether it still runs. */
  executionArn: string;
  showId: string;
  title: string;
  /** The show's time zero (a scheduled show holds its channel from its start until its end). */
  startAt: string;
  claimedAt: string;
  /** The latest time the holder's plan could still be running: past it the claim is free. */
  leaseUntil: string;
}

/** The channel a run runs on, kept with the run so that any end of the run can find it. */
export interface RunChannel {
  runId: string;
  channelArn: string;
  executionArn: string;
}

interface ClaimItem {
  poll_id: string;
  requestor_id: typeof CHANNEL_CLAIM_KEY;
  channel_arn: string;
  /** The holder; absent once it gave the channel back. */
  run_id: string;
  execution_arn: string;
  show_id: string;
  title: string;
  start_at: string;
  claimed_at: string;
  lease_until: string;
}

function toClaim(channelId: string, item: ClaimItem): ChannelClaim {
  return {
    channelId,
    channelArn: item.channel_arn,
    runId: item.run_id,
    executionArn: item.execution_arn,
    showId: item.show_id,
    title: item.title,
    startAt: item.start_at,
    claimedAt: item.claimed_at,
    leaseUntil: item.lease_until,
  };
}

export type ClaimOutcome = { claimed: true } | { claimed: false; holder: ChannelClaim | undefined };

export class ChannelClaims {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.#db = db;
    this.#table = tableName;
  }

  /**
   * Takes the channel for `claim.runId` when it is free, already this run's, or its holder's lease
   * has passed at `now`; otherwise leaves it and says who holds it.
   */
  async claim(claim: ChannelClaim, now: Date): Promise<ClaimOutcome> {
    const item: ClaimItem = {
      poll_id: channelClaimPartition(claim.channelId),
      requestor_id: CHANNEL_CLAIM_KEY,
      channel_arn: claim.channelArn,
      run_id: claim.runId,
      execution_arn: claim.executionArn,
      show_id: claim.showId,
      title: claim.title,
      start_at: claim.startAt,
      claimed_at: claim.claimedAt,
      lease_until: claim.leaseUntil,
    };
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(run_id) OR run_id = :run OR lease_until < :now',
          ExpressionAttributeValues: { ':run': claim.runId, ':now': now.toISOString() },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { claimed: false, holder: await this.holder(claim.channelId) };
    }
  }

  /** The run holding the channel now (a strongly consistent read), if any. */
  async holder(channelId: string): Promise<ChannelClaim | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: channelClaimPartition(channelId), requestor_id: CHANNEL_CLAIM_KEY },
        ConsistentRead: true,
      }),
    );
    return typeof Item?.run_id === 'string' ? toClaim(channelId, Item as ClaimItem) : undefined;
  }

  /** Gives the channel back if `runId` still holds it; false when it did not (any more). */
  async release(channelId: string, runId: string, now = new Date()): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { poll_id: channelClaimPartition(channelId), requestor_id: CHANNEL_CLAIM_KEY },
          UpdateExpression: 'REMOVE run_id SET released_run_id = :run, released_at = :now',
          ConditionExpression: 'run_id = :run',
          ExpressionAttributeValues: { ':run': runId, ':now': now.toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records the channel a run runs on (idempotent). An update, not a put: the run item also holds
   * the run's quiz scoring state (store/scores.ts), which this must not wipe.
   */
  async putRunChannel(run: RunChannel, now: Date): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(run.runId), requestor_id: RUN_ITEM_KEY },
        UpdateExpression: 'SET run_id = :run, channel_arn = :c, execution_arn = :e, timestamp_ttl = :ttl',
        ExpressionAttributeValues: {
          ':run': run.runId,
          ':c': run.channelArn,
          ':e': run.executionArn,
          ':ttl': Math.floor(now.getTime() / 1000) + ANSWER_TTL_SECONDS,
        },
      }),
    );
  }

  /** The channel a run runs on, as its Plan recorded it (none for runs that never got that far). */
  async runChannel(runId: string): Promise<RunChannel | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        ConsistentRead: true,
      }),
    );
    if (typeof Item?.channel_arn !== 'string') return undefined;
    return {
      runId,
      channelArn: Item.channel_arn,
      executionArn: typeof Item.execution_arn === 'string' ? Item.execution_arn : '',
    };
  }
}
