// The poll data layer over DynamoDB (lib-dynamodb). The poll item ('#poll') sits under the
// partition `poll_id = <pollId>`; its answers (sort key = viewer id) and running tally counters
// ('#tally') are spread over `vote_shards` shard partitions `<pollId>#<shard>`, the shard derived
// from the viewer id (core/shard.ts), so no key takes more than its share of a vote storm
// (contract/table.ts, docs/sharding.md). A vote is a conditional put, then its shard counter's ADD;
// the live tally sums the shard counters; the final result is recounted from the answer items of
// every shard at close, with strongly consistent reads, so it is exact even if a counter update was
// lost in a crash.
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { HistoryEntry, HistoryPage, PollView, VoteResponse } from '../contract/api.ts';
import type { RunEndReason } from '../contract/state-machine.ts';
import {
  ANSWER_TTL_SECONDS,
  CUE_ITEM_KEY,
  currentPollPartition,
  DEFAULT_VOTE_SHARDS,
  MAX_VOTE_SHARDS,
  POLL_ITEM_KEY,
  TABLE,
  TALLY_ITEM_KEY,
  shardPartitionKey,
  type AnswerItem,
} from '../contract/table.ts';
import {
  countAnswers,
  emptyCounts,
  isRecounted,
  scoreOf,
  viewPoll,
  voteRefusal,
  withinVoteDeadline,
  type PollRecord,
} from '../core/poll.ts';
import { POLL_ID } from '../core/ids.ts';
import { RefusedError } from '../core/refusal.ts';
import { shardOf } from '../core/shard.ts';
import { ChannelClaims } from './channels.ts';
import { readPartition } from './partition.ts';
import { ScoreStore } from './scores.ts';

interface PollItem {
  poll_id: string;
  requestor_id: typeof POLL_ITEM_KEY;
  run_id: string;
  question: string;
  answers: string[];
  correct?: number;
  state: 'open' | 'closed';
  opened_at: string;
  closes_at: string;
  closed_at?: string;
  final_counts?: number[];
  /** The run's end closed it (stop, failure, timeout), not its Close step. */
  closed_by?: RunEndReason;
  /** When the run's end got its results cue into the stream. */
  results_at?: string;
  vote_shards: number;
  points?: number;
  speed?: boolean;
  title?: string;
  duration_s?: number;
  grace_s?: number;
  score_shards?: number;
  points_given?: number;
}

/**
 * The vote was written, but later than VOTE_DEADLINE_MS after its closing-time check, so the close
 * recount may already have run: it is not acknowledged (the API answers 500). The answer is stored
 * and may or may not count.
 */
export class VoteDeadlineError extends Error {
  override readonly name = 'VoteDeadlineError';
}

/** The partition of a poll's shard that holds this viewer's answer and counts it. */
export function votePartition(poll: Pick<PollRecord, 'pollId' | 'voteShards'>, requestorId: string): string {
  return shardPartitionKey(poll.pollId, shardOf(requestorId, poll.voteShards));
}

/** Every partition holding a poll's answers and counters. */
export function votePartitions(poll: Pick<PollRecord, 'pollId' | 'voteShards'>): string[] {
  return Array.from({ length: poll.voteShards }, (_, shard) => shardPartitionKey(poll.pollId, shard));
}

const tallyAttribute = (answer: number) => `c${answer}`;

function toRecord(item: PollItem): PollRecord {
  const record: PollRecord = {
    pollId: item.poll_id,
    runId: item.run_id,
    question: item.question,
    answers: item.answers,
    state: item.state,
    openedAt: item.opened_at,
    closesAt: item.closes_at,
    voteShards: item.vote_shards,
  };
  if (item.correct !== undefined) record.correct = item.correct;
  if (item.final_counts !== undefined) record.finalCounts = item.final_counts;
  if (item.closed_at !== undefined) record.closedAt = item.closed_at;
  if (item.closed_by !== undefined) record.closedBy = item.closed_by;
  if (item.results_at !== undefined) record.resultsAt = item.results_at;
  if (item.points !== undefined) record.points = item.points;
  if (item.speed !== undefined) record.speed = item.speed;
  if (item.title !== undefined) record.title = item.title;
  if (item.duration_s !== undefined) record.durationSeconds = item.duration_s;
  if (item.grace_s !== undefined) record.graceSeconds = item.grace_s;
  if (item.score_shards !== undefined) record.scoreShards = item.score_shards;
  if (item.points_given !== undefined) record.pointsGiven = item.points_given;
  return record;
}

function toItem(record: PollRecord): PollItem {
  const item: PollItem = {
    poll_id: record.pollId,
    requestor_id: POLL_ITEM_KEY,
    run_id: record.runId,
    question: record.question,
    answers: record.answers,
    state: record.state,
    opened_at: record.openedAt,
    closes_at: record.closesAt,
    vote_shards: record.voteShards,
  };
  if (record.correct !== undefined) item.correct = record.correct;
  if (record.points !== undefined) item.points = record.points;
  if (record.speed !== undefined) item.speed = record.speed;
  if (record.title !== undefined) item.title = record.title;
  if (record.durationSeconds !== undefined) item.duration_s = record.durationSeconds;
  if (record.graceSeconds !== undefined) item.grace_s = record.graceSeconds;
  if (record.scoreShards !== undefined) item.score_shards = record.scoreShards;
  return item;
}

/** An answer item's partition key: one of a poll's shards (`<pollId>#<shard>`). */
function isAnswerPartition(key: string): boolean {
  const [pollId, shard, ...rest] = key.split('#');
  if (rest.length > 0 || !POLL_ID.test(pollId!) || shard === undefined) return false;
  return /^\d{1,3}$/.test(shard) && Number(shard) < MAX_VOTE_SHARDS;
}

/** History cursors are opaque to clients: base64url of the GSI's LastEvaluatedKey. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, requestorId: string): Record<string, unknown> {
  const invalid = (options?: ErrorOptions) =>
    new RefusedError(
      { reason: 'invalid_cursor', message: 'cursor: not a cursor this API returned' },
      options,
    );
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw invalid({ cause: error });
  }
  if (typeof key !== 'object' || key === null) throw invalid();
  const k = key as Record<string, unknown>;
  // Exactly the shape the GSI returns for this viewer: a number DynamoDB cannot take (1e308, 1e-308)
  // would fail the query as a 500, so only what a stored item can hold passes.
  const ok =
    Object.keys(k).length === 3 &&
    typeof k.poll_id === 'string' &&
    isAnswerPartition(k.poll_id) &&
    k.requestor_id === requestorId &&
    Number.isSafeInteger(k.timestamp_created) &&
    (k.timestamp_created as number) >= 0;
  if (!ok) throw invalid();
  return k;
}

export class PollStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  /** The channel claims in the same table (store/channels.ts): one running show per channel. */
  readonly channels: ChannelClaims;
  /** Quiz scores and nicknames in the same table (store/scores.ts). */
  readonly scores: ScoreStore;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.#db = db;
    this.#table = tableName;
    this.channels = new ChannelClaims(db, tableName);
    this.scores = new ScoreStore(db, tableName);
  }

  async getPoll(pollId: string): Promise<PollRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { poll_id: pollId, requestor_id: POLL_ITEM_KEY } }),
    );
    return Item ? toRecord(Item as PollItem) : undefined;
  }

  async requirePoll(pollId: string): Promise<PollRecord> {
    const poll = await this.getPoll(pollId);
    if (!poll) throw new RefusedError({ reason: 'unknown_poll', message: `poll_id: no poll ${pollId}` });
    return poll;
  }

  /**
   * Writes the poll item, with its shard count (DEFAULT_VOTE_SHARDS unless the record names one).
   * Opening the same poll again (a retried step) returns the stored one, shard count included.
   */
  async openPoll(
    record: Omit<PollRecord, 'voteShards'> & Partial<Pick<PollRecord, 'voteShards'>>,
  ): Promise<PollRecord> {
    const opened: PollRecord = { ...record, voteShards: record.voteShards ?? DEFAULT_VOTE_SHARDS };
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: toItem(opened),
          ConditionExpression: 'attribute_not_exists(poll_id)',
        }),
      );
      return opened;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.requirePoll(record.pollId);
      throw error;
    }
  }

  /**
   * Claims a manual question's cue item (written by the state machine's WaitForCue state) once: its
   * task token when this call set `cued_at`, undefined when there is no item yet or another producer
   * claimed it first (two producers pressing at once fire one question each, never one twice).
   */
  async claimCue(pollId: string, cuedAt: string): Promise<string | undefined> {
    const Key = { poll_id: pollId, requestor_id: CUE_ITEM_KEY };
    const { Item } = await this.#db.send(new GetCommand({ TableName: this.#table, Key }));
    if (!Item || typeof Item.task_token !== 'string' || Item.cued_at !== undefined) return undefined;
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key,
          UpdateExpression: 'SET cued_at = :t',
          ConditionExpression: 'task_token = :token AND attribute_not_exists(cued_at)',
          ExpressionAttributeValues: { ':t': cuedAt, ':token': Item.task_token },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
    return Item.task_token;
  }

  /** Points viewers of this channel who join late at this poll (the latest opened wins). */
  async setCurrentPoll(channelId: string, pollId: string): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          poll_id: currentPollPartition(channelId),
          requestor_id: POLL_ITEM_KEY,
          current_poll_id: pollId,
        },
      }),
    );
  }

  async getCurrentPoll(channelId: string): Promise<PollRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: currentPollPartition(channelId), requestor_id: POLL_ITEM_KEY },
      }),
    );
    return typeof Item?.current_poll_id === 'string' ? this.getPoll(Item.current_poll_id) : undefined;
  }

  /**
   * Records one vote per viewer: the conditional put in the viewer's shard, then that shard
   * counter's ADD. Throws a RefusedError (answer_out_of_range, poll_closed, already_answered) when
   * the vote does not count, and a VoteDeadlineError when the answer was written too long after
   * `now`, the time it was checked against closes_at. The caller looks the poll up (possibly
   * through PollCache); the answer goes back as the viewer knows it (the plain poll id).
   */
  async recordVote(
    poll: PollRecord,
    requestorId: string,
    answer: number,
    now: Date,
    elapsedMs?: number,
  ): Promise<VoteResponse> {
    const refusal = voteRefusal(poll, answer, now);
    if (refusal) throw new RefusedError(refusal);
    const pollId = poll.pollId;
    const partition = votePartition(poll, requestorId);
    const item: AnswerItem = {
      poll_id: partition,
      plain_poll_id: pollId,
      requestor_id: requestorId,
      answer,
      timestamp_created: now.getTime(),
      timestamp_ttl: Math.floor(now.getTime() / 1000) + ANSWER_TTL_SECONDS,
    };
    const scored = scoreOf(poll, answer, elapsedMs, now);
    if (scored) {
      item.points = scored.points;
      item.elapsed_ms = scored.elapsedMs;
    }
    try {
      // The same viewer always maps to the same shard, so this one condition refuses a re-vote.
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(poll_id)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RefusedError(
          {
            reason: 'already_answered',
            message: `requestor_id: ${requestorId} already answered ${pollId}`,
          },
          { cause: error },
        );
      }
      throw error;
    }
    let writtenBy = new Date();
    // The live counter and the player's score (another key, `#score#<runId>#<shard>`) at once: the
    // score inside the same deadline as the answer, since the close reads the standings right
    // after the recount.
    await Promise.all([
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { poll_id: partition, requestor_id: TALLY_ITEM_KEY },
          UpdateExpression: 'ADD #c :one',
          ExpressionAttributeNames: { '#c': tallyAttribute(answer) },
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
      scored &&
        this.scores
          .addScore({
            runId: poll.runId,
            pollId,
            requestorId,
            shards: poll.scoreShards ?? poll.voteShards,
            points: scored.points,
            elapsedMs: scored.elapsedMs,
            at: now,
          })
          .then(() => {
            writtenBy = new Date();
          }),
    ]);
    if (!withinVoteDeadline(now, writtenBy, new Date(poll.closesAt))) {
      throw new VoteDeadlineError(
        `vote by ${requestorId} on ${pollId} written ${writtenBy.getTime() - now.getTime()} ms after its check (closes_at ${poll.closesAt}): not acknowledged`,
      );
    }
    return {
      poll_id: pollId,
      requestor_id: requestorId,
      answer,
      timestamp_created: item.timestamp_created,
      timestamp_ttl: item.timestamp_ttl,
    };
  }

  /**
   * The running counts: the sum of the shard counters, read in one BatchGetItem (≤ 100 shards)
   * whatever the number of votes.
   */
  async liveCounts(poll: PollRecord, answerCount = poll.answers.length): Promise<number[]> {
    const counts = emptyCounts(answerCount);
    const keys = votePartitions(poll).map((partition) => ({
      poll_id: partition,
      requestor_id: TALLY_ITEM_KEY,
    }));
    for (const item of await this.#batchGet(keys)) {
      for (let i = 0; i < counts.length; i++) counts[i]! += Number(item[tallyAttribute(i)] ?? 0);
    }
    return counts;
  }

  /** The running counts of a poll by id (liveCounts after reading the poll item). */
  async tally(pollId: string, answerCount: number): Promise<number[]> {
    return this.liveCounts(await this.requirePoll(pollId), answerCount);
  }

  /** What a viewer sees of this poll (core's viewPoll), reading the running tally only until it is recounted. */
  async view(poll: PollRecord, now: Date): Promise<PollView> {
    const live = isRecounted(poll) ? [] : await this.liveCounts(poll);
    return viewPoll(poll, live, now);
  }

  /**
   * Exact counts from the answer items themselves, every shard read with strongly consistent
   * Queries (a write acknowledged before the read is in it; the GSI could not give that). Reads
   * every answer: for close, not for viewers.
   */
  async recountPoll(poll: PollRecord, answerCount = poll.answers.length): Promise<number[]> {
    return (await this.#recount(poll, answerCount)).counts;
  }

  async #recount(
    poll: PollRecord,
    answerCount = poll.answers.length,
  ): Promise<{ counts: number[]; pointsGiven: number }> {
    const shards = (
      await Promise.all(votePartitions(poll).map((partition) => this.#answersIn(partition)))
    ).flat();
    return {
      counts: countAnswers(
        shards.map((a) => a.answer),
        answerCount,
      ),
      pointsGiven: shards.reduce((sum, a) => sum + a.points, 0),
    };
  }

  /** recountPoll of a poll by id. */
  async recount(pollId: string, answerCount: number): Promise<number[]> {
    return this.recountPoll(await this.requirePoll(pollId), answerCount);
  }

  async #answersIn(partition: string): Promise<Array<{ answer: number; points: number }>> {
    const items = await readPartition<{ requestor_id: string; answer?: number; points?: number }>(
      this.#db,
      this.#table,
      partition,
      'requestor_id, answer, points',
    );
    // The shard's '#tally' counter shares the partition; viewer ids never start with '#'.
    return items
      .filter((item) => !String(item.requestor_id).startsWith('#'))
      .map((item) => ({ answer: Number(item.answer), points: Number(item.points ?? 0) }));
  }

  /**
   * Ends an open poll before its time (its run failed or was stopped): closes_at becomes `now`, so
   * votes are refused from here on (after the API's poll cache expires), and `closed_by` says why.
   * False when it was not open or already past closes_at — then nothing changes.
   */
  async endPoll(pollId: string, now: Date, reason?: RunEndReason): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { poll_id: pollId, requestor_id: POLL_ITEM_KEY },
          UpdateExpression: reason ? 'SET closes_at = :now, closed_by = :why' : 'SET closes_at = :now',
          ConditionExpression: '#s = :open AND closes_at > :now',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: {
            ':open': 'open',
            ':now': now.toISOString(),
            ...(reason ? { ':why': reason } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Records when the end of its run got the poll's results cue into the stream. */
  async markResultsSent(pollId: string, at: Date): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: pollId, requestor_id: POLL_ITEM_KEY },
        UpdateExpression: 'SET results_at = :t',
        ConditionExpression: 'attribute_exists(poll_id)',
        ExpressionAttributeValues: { ':t': at.toISOString() },
      }),
    );
  }

  /** Marks the poll closed with its recounted result. Closing twice recounts again and keeps it closed. */
  async closePoll(pollId: string, now: Date): Promise<PollRecord> {
    const poll = await this.requirePoll(pollId);
    const { counts: finalCounts, pointsGiven } = await this.#recount(poll);
    const quiz = poll.correct !== undefined;
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: pollId, requestor_id: POLL_ITEM_KEY },
        UpdateExpression: `SET #s = :closed, final_counts = :c, closed_at = :t${quiz ? ', points_given = :g' : ''}`,
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: {
          ':closed': 'closed',
          ':c': finalCounts,
          ':t': now.toISOString(),
          ...(quiz ? { ':g': pointsGiven } : {}),
        },
      }),
    );
    return { ...poll, state: 'closed', finalCounts, ...(quiz ? { pointsGiven } : {}) };
  }

  /** A viewer's answers, newest first, `limit` per page, with the questions they answered. */
  async history(requestorId: string, limit: number, cursor?: string): Promise<HistoryPage> {
    const page = await this.#db.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: TABLE.requestorIndex.name,
        KeyConditionExpression: 'requestor_id = :r',
        ExpressionAttributeValues: { ':r': requestorId },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: cursor === undefined ? undefined : decodeCursor(cursor, requestorId),
      }),
    );
    // The poll's own id: the answer's partition is its shard's, the poll's id is in plain_poll_id.
    const answers = (page.Items ?? []) as AnswerItem[];
    const polls = await this.#pollsById([...new Set(answers.map((a) => a.plain_poll_id))]);
    const items = answers.map((a) => {
      const entry: HistoryEntry = {
        poll_id: a.plain_poll_id,
        answer: a.answer,
        answered_at: new Date(a.timestamp_created).toISOString(),
      };
      const poll = polls.get(a.plain_poll_id);
      if (poll) {
        entry.question = poll.question;
        entry.answers = poll.answers;
        entry.state = poll.state;
        if (poll.state === 'closed' && poll.correct !== undefined) entry.correct = poll.correct;
        if (poll.closedBy) entry.closed_by = poll.closedBy;
        // What the answer earned says whether it was right: only once the question is revealed.
        if (isRecounted(poll) && poll.correct !== undefined && a.points !== undefined)
          entry.points = a.points;
      }
      return entry;
    });
    // DynamoDB may return a LastEvaluatedKey on the last full page; an extra empty page is harmless.
    return { items, next_cursor: page.LastEvaluatedKey ? encodeCursor(page.LastEvaluatedKey) : null };
  }

  async #pollsById(pollIds: string[]): Promise<Map<string, PollRecord>> {
    const found = new Map<string, PollRecord>();
    const keys = pollIds.map((id) => ({ poll_id: id, requestor_id: POLL_ITEM_KEY }));
    for (const item of await this.#batchGet<PollItem>(keys)) found.set(item.poll_id, toRecord(item));
    return found;
  }

  /** The items at these keys (missing ones left out), in BatchGetItems of at most 100 keys. */
  async #batchGet<T = Record<string, unknown>>(keys: Array<Record<string, unknown>>): Promise<T[]> {
    const found: T[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Array<Record<string, unknown>> | undefined = keys.slice(i, i + 100);
      while (pending && pending.length > 0) {
        const out = await this.#db.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending } } }),
        );
        found.push(...((out.Responses?.[this.#table] ?? []) as T[]));
        pending = out.UnprocessedKeys?.[this.#table]?.Keys as Array<Record<string, unknown>> | undefined;
      }
    }
    return found;
  }
}

/**
 * Poll items seen by one Lambda container, kept `ttlMs`. A poll's question, answers and closes_at
 * never change once opened, and votes past closes_at are refused from the cached item too, so
 * the only staleness is a poll closed before its time (endPoll, when its run ended early), which
 * can take votes for up to `ttlMs` — the lifecycle's endRun waits that out before it recounts.
 * Unknown polls are not cached: one may be opened a moment later.
 */
export class PollCache {
  readonly #store: Pick<PollStore, 'requirePoll'>;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { poll: PollRecord; until: number }>();

  constructor(store: Pick<PollStore, 'requirePoll'>, ttlMs: number, maxEntries = 1000) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  async require(pollId: string, now = Date.now()): Promise<PollRecord> {
    const hit = this.#entries.get(pollId);
    if (hit && hit.until > now) return hit.poll;
    const poll = await this.#store.requirePoll(pollId);
    if (this.#ttlMs > 0) {
      this.#entries.delete(pollId);
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(pollId, { poll, until: now + this.#ttlMs });
    }
    return poll;
  }
}
