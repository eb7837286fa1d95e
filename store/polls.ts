// The poll data layer over DynamoDB (lib-dynamodb). Item kinds share the partition `poll_id`:
// answers (sort key = viewer id), the poll ('#poll') and its running tally ('#tally').
// A vote is a conditional put, then a counter ADD; the final result is recounted from the answer
// items at close, so it is exact even if a counter update was lost in a crash.
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { HistoryEntry, HistoryPage, PollView } from '../contract/api.ts';
import {
  ANSWER_TTL_SECONDS,
  CURRENT_POLL_PARTITION,
  POLL_ITEM_KEY,
  TABLE,
  TALLY_ITEM_KEY,
  type AnswerItem,
} from '../contract/table.ts';
import {
  countAnswers,
  emptyCounts,
  isRecounted,
  viewPoll,
  voteRefusal,
  type PollRecord,
} from '../core/poll.ts';
import { RefusedError } from '../core/refusal.ts';

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
  };
  if (item.correct !== undefined) record.correct = item.correct;
  if (item.final_counts !== undefined) record.finalCounts = item.final_counts;
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
  };
  if (record.correct !== undefined) item.correct = record.correct;
  return item;
}

/** History cursors are opaque to clients: base64url of the GSI's LastEvaluatedKey. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, requestorId: string): Record<string, unknown> {
  const invalid = () =>
    new RefusedError({ reason: 'invalid_cursor', message: 'cursor: not a cursor this API returned' });
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof key !== 'object' || key === null) throw invalid();
  const k = key as Record<string, unknown>;
  const ok =
    Object.keys(k).length === 3 &&
    typeof k.poll_id === 'string' &&
    k.requestor_id === requestorId &&
    typeof k.timestamp_created === 'number';
  if (!ok) throw invalid();
  return k;
}

export class PollStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.#db = db;
    this.#table = tableName;
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

  /** Writes the poll item. Opening the same poll again (a retried step) returns the stored one. */
  async openPoll(record: PollRecord): Promise<PollRecord> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: toItem(record),
          ConditionExpression: 'attribute_not_exists(poll_id)',
        }),
      );
      return record;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return this.requirePoll(record.pollId);
      throw error;
    }
  }

  /** Points viewers who join late at this poll (the latest opened wins). */
  async setCurrentPoll(pollId: string): Promise<void> {
    await this.#db.send(
      new PutCommand({
        TableName: this.#table,
        Item: { poll_id: CURRENT_POLL_PARTITION, requestor_id: POLL_ITEM_KEY, current_poll_id: pollId },
      }),
    );
  }

  async getCurrentPoll(): Promise<PollRecord | undefined> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: CURRENT_POLL_PARTITION, requestor_id: POLL_ITEM_KEY },
      }),
    );
    return typeof Item?.current_poll_id === 'string' ? this.getPoll(Item.current_poll_id) : undefined;
  }

  /**
   * Records one vote per viewer: the conditional put, then the counter ADD. Throws a RefusedError
   * (answer_out_of_range, poll_closed, already_answered) when the vote does not count. The caller
   * looks the poll up (possibly through PollCache).
   */
  async recordVote(poll: PollRecord, requestorId: string, answer: number, now: Date): Promise<AnswerItem> {
    const refusal = voteRefusal(poll, answer, now);
    if (refusal) throw new RefusedError(refusal);
    const pollId = poll.pollId;
    const item: AnswerItem = {
      poll_id: pollId,
      requestor_id: requestorId,
      answer,
      timestamp_created: now.getTime(),
      timestamp_ttl: Math.floor(now.getTime() / 1000) + ANSWER_TTL_SECONDS,
    };
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(poll_id)',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new RefusedError({
          reason: 'already_answered',
          message: `requestor_id: ${requestorId} already answered ${pollId}`,
        });
      }
      throw error;
    }
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: pollId, requestor_id: TALLY_ITEM_KEY },
        UpdateExpression: 'ADD #c :one',
        ExpressionAttributeNames: { '#c': tallyAttribute(answer) },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    return item;
  }

  /** The running counts: one item read, whatever the number of votes. */
  async tally(pollId: string, answerCount: number): Promise<number[]> {
    const { Item } = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: { poll_id: pollId, requestor_id: TALLY_ITEM_KEY } }),
    );
    const counts = emptyCounts(answerCount);
    if (Item) for (let i = 0; i < answerCount; i++) counts[i] = Number(Item[tallyAttribute(i)] ?? 0);
    return counts;
  }

  /** What a viewer sees of this poll (core's viewPoll), reading the running tally only until it is recounted. */
  async view(poll: PollRecord, now: Date): Promise<PollView> {
    const live = isRecounted(poll) ? [] : await this.tally(poll.pollId, poll.answers.length);
    return viewPoll(poll, live, now);
  }

  /** Exact counts from the answer items themselves (reads every answer: for close, not for viewers). */
  async recount(pollId: string, answerCount: number): Promise<number[]> {
    const answers: number[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'poll_id = :p',
          ExpressionAttributeValues: { ':p': pollId },
          ProjectionExpression: 'requestor_id, answer',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        if (!String(item.requestor_id).startsWith('#')) answers.push(Number(item.answer));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return countAnswers(answers, answerCount);
  }

  /** Marks the poll closed with its recounted result. Closing twice recounts again and keeps it closed. */
  async closePoll(pollId: string, now: Date): Promise<PollRecord> {
    const poll = await this.requirePoll(pollId);
    const finalCounts = await this.recount(pollId, poll.answers.length);
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: pollId, requestor_id: POLL_ITEM_KEY },
        UpdateExpression: 'SET #s = :closed, final_counts = :c, closed_at = :t',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':closed': 'closed', ':c': finalCounts, ':t': now.toISOString() },
      }),
    );
    return { ...poll, state: 'closed', finalCounts };
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
    const answers = (page.Items ?? []) as AnswerItem[];
    const polls = await this.#pollsById([...new Set(answers.map((a) => a.poll_id))]);
    const items = answers.map((a) => {
      const entry: HistoryEntry = {
        poll_id: a.poll_id,
        answer: a.answer,
        answered_at: new Date(a.timestamp_created).toISOString(),
      };
      const poll = polls.get(a.poll_id);
      if (poll) {
        entry.question = poll.question;
        entry.answers = poll.answers;
        entry.state = poll.state;
        if (poll.state === 'closed' && poll.correct !== undefined) entry.correct = poll.correct;
      }
      return entry;
    });
    // DynamoDB may return a LastEvaluatedKey on the last full page; an extra empty page is harmless.
    return { items, next_cursor: page.LastEvaluatedKey ? encodeCursor(page.LastEvaluatedKey) : null };
  }

  async #pollsById(pollIds: string[]): Promise<Map<string, PollRecord>> {
    const found = new Map<string, PollRecord>();
    // BatchGetItem takes at most 100 keys per call; history pages are at most 100.
    for (let i = 0; i < pollIds.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = pollIds
        .slice(i, i + 100)
        .map((id) => ({ poll_id: id, requestor_id: POLL_ITEM_KEY }));
      while (keys && keys.length > 0) {
        const out = await this.#db.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys } } }),
        );
        for (const item of out.Responses?.[this.#table] ?? [])
          found.set(String(item.poll_id), toRecord(item as PollItem));
        keys = out.UnprocessedKeys?.[this.#table]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return found;
  }
}

/**
 * Poll items seen by one Lambda container, kept `ttlMs`. A poll's question, answers and closes_at
 * never change once opened, and votes past closes_at are refused from the cached item too, so
 * the only staleness is a poll closed before its time, which can take votes for up to `ttlMs`.
 * Unknown polls are not cached: one may be opened a moment later.
 */
export class PollCache {
  readonly #store: PollStore;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { poll: PollRecord; until: number }>();

  constructor(store: PollStore, ttlMs: number, maxEntries = 1000) {
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
