// Quiz scores and nicknames (issue 22) over the one DynamoDB table (contract/table.ts):
//
// - **score**: one item per player per run, `#score#<runId>#<shard>` / viewer id, the shard
//   shardOf(viewer id, the run's `score_shards`), so a vote storm spreads over as many score keys as
//   vote keys. A quiz vote adds to it with one UpdateItem (ADD score, total_ms, answered; SET
//   first_at if absent), conditioned on the question not being in `answered` yet: a retried update
//   counts once. No `timestamp_created`: it never enters the requestor index.
// - **name**: one item per viewer, `#viewer#<id>` / `#name`: nickname, hidden.
// - **run**: the run's item (`#run#<runId>` / `#run`, store/channels.ts) also holds `quiz_polls`
//   (its quiz questions, at Plan), `closed_quiz` (those closed, at each close: the leaderboard is
//   final once both agree) and `score_shards` (fixed when its first question opens).
//
// The standings are read at close with strongly consistent Queries of every score shard, in
// parallel (every acknowledged vote's score write landed before its 201, within the vote deadline
// the close waits out), sorted (core compareStandings), and the names of the top players fetched
// with one BatchGetItem.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  ANSWER_TTL_SECONDS,
  channelClaimPartition,
  CHANNEL_CLAIM_KEY,
  MAX_VOTE_SHARDS,
  NAME_ITEM_KEY,
  RUN_ITEM_KEY,
  runPartition,
  scorePartition,
  viewerPartition,
} from '../contract/table.ts';
import { displayName, type PlayerStanding } from '../core/leaderboard.ts';
import { compareStandings } from '../core/scoring.ts';
import { shardOf } from '../core/shard.ts';
import { readPartition } from './partition.ts';

/** One player of a run, as the standings list them: PlayerStanding.name is the display name. */
export interface Standing extends PlayerStanding {
  /** The nickname the player chose (even when hidden), or null: none, or not read (StandingsOptions.namesFor). */
  nickname: string | null;
  hidden: boolean;
}

/** A viewer's stored name. */
export interface ViewerName {
  requestorId: string;
  nickname: string | null;
  hidden: boolean;
}

/** One quiz vote's score, as the vote path adds it (after the answer's put). */
export interface ScoreWrite {
  runId: string;
  /** The question's poll id (`<runId>:<id>`). */
  pollId: string;
  requestorId: string;
  /** The run's score shard count (the poll's `score_shards`). */
  shards: number;
  /** What the answer earned (scoreVote): 0 for a wrong one, which still makes the viewer a player. */
  points: number;
  /** The answer time the server accepted (boundElapsed), ms. */
  elapsedMs: number;
  /** When the vote reached the API. */
  at: Date;
}

export interface StandingsOptions {
  /** Read the names of the first this-many players only (the close needs 10); default: every player. */
  namesFor?: number;
}

/** What the close learns when it records a quiz question closed. */
export interface QuizClosed {
  /** Every quiz question the run's Plan listed is now closed: the leaderboard is final. */
  final: boolean;
}

const ttlOf = (now: Date) => Math.floor(now.getTime() / 1000) + ANSWER_TTL_SECONDS;
/** A question's own id inside its run (`<runId>:<id>` → `<id>`): what a score item's `answered` holds. */
const localIdOf = (pollId: string) => pollId.slice(pollId.lastIndexOf(':') + 1);

interface ScoreItem {
  requestor_id: string;
  score?: number;
  total_ms?: number;
  first_at?: number;
}

interface NameItem {
  poll_id: string;
  nickname?: string;
  hidden?: boolean;
}

/** BatchGetItem calls in flight at once when reading many names (each ≤ 100 keys, ≤ 16 MB). */
const NAME_BATCHES_AT_ONCE = 8;

export class ScoreStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(db: DynamoDBDocumentClient, tableName: string) {
    this.#db = db;
    this.#table = tableName;
  }

  // ---- the run ---------------------------------------------------------------------------------

  /** Lists a run's quiz questions on its run item (Plan): the leaderboard is final once all are closed. */
  async recordRunQuiz(runId: string, quizPollIds: readonly string[], now: Date): Promise<void> {
    if (quizPollIds.length === 0) return;
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        UpdateExpression:
          'SET run_id = :run, quiz_polls = :q, timestamp_ttl = if_not_exists(timestamp_ttl, :ttl)',
        ExpressionAttributeValues: { ':run': runId, ':q': new Set(quizPollIds), ':ttl': ttlOf(now) },
      }),
    );
  }

  /**
   * The run's score shard count: `shards` the first time (its first question's open), the stored
   * count after, so every question of the run puts a player's score in the same item.
   */
  async runScoreShards(runId: string, shards: number, now: Date): Promise<number> {
    const out = await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        UpdateExpression:
          'SET run_id = :run, score_shards = if_not_exists(score_shards, :n), timestamp_ttl = if_not_exists(timestamp_ttl, :ttl)',
        ExpressionAttributeValues: { ':run': runId, ':n': shards, ':ttl': ttlOf(now) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Number(out.Attributes?.score_shards ?? shards);
  }

  /** Records a quiz question closed on its run (idempotent) and says whether every one now is. */
  async closeQuizQuestion(runId: string, pollId: string): Promise<QuizClosed> {
    const out = await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        UpdateExpression: 'SET run_id = :run ADD closed_quiz :p',
        ExpressionAttributeValues: { ':run': runId, ':p': new Set([pollId]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const quiz = out.Attributes?.quiz_polls as Set<string> | undefined;
    const closed = (out.Attributes?.closed_quiz as Set<string> | undefined) ?? new Set<string>();
    return { final: quiz !== undefined && [...quiz].every((id) => closed.has(id)) };
  }

  /** How many quiz questions of the run have closed (0 for an unknown run). */
  async closedQuizCount(runId: string): Promise<number> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        ProjectionExpression: 'closed_quiz',
        ConsistentRead: true,
      }),
    );
    return (Item?.closed_quiz as Set<string> | undefined)?.size ?? 0;
  }

  /**
   * Whether nicknames are locked on this channel: the run holding it (its claim, store/channels.ts)
   * has closed at least one quiz question. No run holding it: not locked.
   */
  async namesLocked(channelId: string): Promise<boolean> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: channelClaimPartition(channelId), requestor_id: CHANNEL_CLAIM_KEY },
        ProjectionExpression: 'run_id',
        ConsistentRead: true,
      }),
    );
    if (typeof Item?.run_id !== 'string') return false;
    return (await this.closedQuizCount(Item.run_id)) > 0;
  }

  // ---- scores ----------------------------------------------------------------------------------

  /**
   * Adds one quiz vote to its player's score: one UpdateItem on the player's score item, counted once
   * per question (a retried update changes nothing).
   */
  async addScore(write: ScoreWrite): Promise<void> {
    const shard = shardOf(write.requestorId, write.shards);
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { poll_id: scorePartition(write.runId, shard), requestor_id: write.requestorId },
          UpdateExpression:
            'ADD score :pts, total_ms :ms, answered :q SET first_at = if_not_exists(first_at, :now), timestamp_ttl = :ttl',
          ConditionExpression: 'NOT contains(answered, :p)',
          ExpressionAttributeValues: {
            ':pts': write.points,
            ':ms': write.elapsedMs,
            ':q': new Set([localIdOf(write.pollId)]),
            ':p': localIdOf(write.pollId),
            ':now': write.at.getTime(),
            ':ttl': ttlOf(write.at),
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return; // already counted
      throw error;
    }
  }

  /**
   * Every player of the run, best first (core compareStandings), read with strongly consistent
   * Queries of every score shard in parallel; names for the first `namesFor` players (default all)
   * in BatchGetItems of 100.
   */
  async standings(runId: string, options: StandingsOptions = {}): Promise<Standing[]> {
    const { Item } = await this.#db.send(
      new GetCommand({
        TableName: this.#table,
        Key: { poll_id: runPartition(runId), requestor_id: RUN_ITEM_KEY },
        ProjectionExpression: 'score_shards',
        ConsistentRead: true,
      }),
    );
    const shards = Number(Item?.score_shards ?? 0);
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_VOTE_SHARDS) return [];
    const pages = await Promise.all(
      Array.from({ length: shards }, (_, shard) => this.#scoresIn(scorePartition(runId, shard))),
    );
    const players = pages
      .flat()
      .map((item) => ({
        requestorId: item.requestor_id,
        score: Number(item.score ?? 0),
        totalAnswerMs: Number(item.total_ms ?? 0),
        firstAnsweredAt: Number(item.first_at ?? 0),
      }))
      .sort(compareStandings);
    const named = players.slice(0, options.namesFor ?? players.length);
    const names = await this.getNames(named.map((p) => p.requestorId));
    return players.map((player) => {
      const stored = names.get(player.requestorId);
      const nickname = stored?.nickname ?? null;
      const hidden = stored?.hidden ?? false;
      return { ...player, nickname, hidden, name: displayName(nickname, hidden, player.requestorId) };
    });
  }

  #scoresIn(partition: string): Promise<ScoreItem[]> {
    return readPartition<ScoreItem>(
      this.#db,
      this.#table,
      partition,
      'requestor_id, score, total_ms, first_at',
    );
  }

  // ---- names -----------------------------------------------------------------------------------

  /** Stores a nickname already checked by core/nickname.ts checkNickname; returns it as stored. */
  async setNickname(requestorId: string, nickname: string, now: Date = new Date()): Promise<string> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: viewerPartition(requestorId), requestor_id: NAME_ITEM_KEY },
        UpdateExpression: 'SET nickname = :n, timestamp_ttl = :ttl',
        ExpressionAttributeValues: { ':n': nickname, ':ttl': ttlOf(now) },
      }),
    );
    return nickname;
  }

  /** A producer hides (or shows again) a viewer's nickname: they show as "Player" + short id. */
  async setHidden(requestorId: string, hidden: boolean): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { poll_id: viewerPartition(requestorId), requestor_id: NAME_ITEM_KEY },
        // HIDDEN is one of DynamoDB's reserved words.
        UpdateExpression: 'SET #hidden = :h, timestamp_ttl = :ttl',
        ExpressionAttributeNames: { '#hidden': 'hidden' },
        ExpressionAttributeValues: { ':h': hidden, ':ttl': ttlOf(new Date()) },
      }),
    );
  }

  /** A viewer's stored name, or undefined when they never set one nor were hidden. */
  async getName(requestorId: string): Promise<ViewerName | undefined> {
    return (await this.getNames([requestorId])).get(requestorId);
  }

  /** The stored names of these viewers (those without one left out), in BatchGetItems of 100. */
  async getNames(requestorIds: readonly string[]): Promise<Map<string, ViewerName>> {
    const found = new Map<string, ViewerName>();
    const keys = [...new Set(requestorIds)].map((id) => ({
      poll_id: viewerPartition(id),
      requestor_id: NAME_ITEM_KEY,
    }));
    const batches: Array<Array<Record<string, unknown>>> = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    // BatchGetItem takes 100 keys; a whole run's names (the producer's leaderboard) are many
    // batches, read NAME_BATCHES_AT_ONCE at a time rather than one after another.
    const readBatch = async (batch: Array<Record<string, unknown>>) => {
      let pending: Array<Record<string, unknown>> | undefined = batch;
      while (pending && pending.length > 0) {
        const out = await this.#db.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending } } }),
        );
        for (const item of (out.Responses?.[this.#table] ?? []) as NameItem[]) {
          const requestorId = item.poll_id.slice(viewerPartition('').length);
          found.set(requestorId, {
            requestorId,
            nickname: typeof item.nickname === 'string' ? item.nickname : null,
            hidden: item.hidden === true,
          });
        }
        pending = out.UnprocessedKeys?.[this.#table]?.Keys as Array<Record<string, unknown>> | undefined;
      }
    };
    for (let i = 0; i < batches.length; i += NAME_BATCHES_AT_ONCE) {
      await Promise.all(batches.slice(i, i + NAME_BATCHES_AT_ONCE).map(readBatch));
    }
    return found;
  }
}
