// An in-memory stand-in for the table (store/polls.ts, store/channels.ts), for the route and lifecycle
// factories' unit tests: the same methods, the same rules from core (voteRefusal, viewPoll,
// countAnswers), the same refusals, without DynamoDB. Shards and the GSI are the real store's
// business (test/integration/sharding.test.ts); here a poll's answers are one map per poll.
import type { HistoryEntry, HistoryPage, PollView, VoteResponse } from '../../contract/api.ts';
import type { RunEndReason } from '../../contract/state-machine.ts';
import { ANSWER_TTL_SECONDS, DEFAULT_VOTE_SHARDS } from '../../contract/table.ts';
import { displayName } from '../../core/leaderboard.ts';
import {
  countAnswers,
  isRecounted,
  scoreOf,
  viewPoll,
  voteRefusal,
  type PollRecord,
} from '../../core/poll.ts';
import { compareStandings } from '../../core/scoring.ts';
import { RefusedError } from '../../core/refusal.ts';
import type { ApiStore } from '../../lambdas/api.ts';
import type { LifecycleStore } from '../../lambdas/poll-lifecycle.ts';
import type { ChannelClaim, ClaimOutcome, RunChannel } from '../../store/channels.ts';
import type { QuizClosed, ScoreWrite, Standing, StandingsOptions, ViewerName } from '../../store/scores.ts';

interface Answer {
  requestorId: string;
  answer: number;
  at: number;
  points?: number;
}

type Scores = LifecycleStore['scores'] & ApiStore['scores'];

/** Scores, names and the run items' quiz sets, as store/scores.ts keeps them (no shards). */
export class MemoryScores implements Scores {
  /** runId → requestorId → score */
  readonly scores = new Map<
    string,
    Map<string, { score: number; totalAnswerMs: number; firstAnsweredAt: number; answered: Set<string> }>
  >();
  readonly names = new Map<string, ViewerName>();
  readonly quiz = new Map<string, Set<string>>();
  readonly closedQuiz = new Map<string, Set<string>>();
  readonly shards = new Map<string, number>();
  /** What namesLocked answers, by channel id (the real store reads the claim and the run item). */
  readonly locked = new Set<string>();

  async recordRunQuiz(runId: string, quizPollIds: readonly string[]): Promise<void> {
    if (quizPollIds.length > 0) this.quiz.set(runId, new Set(quizPollIds));
  }

  async runScoreShards(runId: string, shards: number): Promise<number> {
    if (!this.shards.has(runId)) this.shards.set(runId, shards);
    return this.shards.get(runId)!;
  }

  async closeQuizQuestion(runId: string, pollId: string): Promise<QuizClosed> {
    const closed = this.closedQuiz.get(runId) ?? new Set<string>();
    closed.add(pollId);
    this.closedQuiz.set(runId, closed);
    const quiz = this.quiz.get(runId);
    return { final: quiz !== undefined && [...quiz].every((id) => closed.has(id)) };
  }

  addScore(write: ScoreWrite): void {
    const run = this.scores.get(write.runId) ?? new Map();
    this.scores.set(write.runId, run);
    const player = run.get(write.requestorId) ?? {
      score: 0,
      totalAnswerMs: 0,
      firstAnsweredAt: write.at.getTime(),
      answered: new Set<string>(),
    };
    if (player.answered.has(write.pollId)) return;
    player.answered.add(write.pollId);
    player.score += write.points;
    player.totalAnswerMs += write.elapsedMs;
    run.set(write.requestorId, player);
  }

  async standings(runId: string, options: StandingsOptions = {}): Promise<Standing[]> {
    const players = [...(this.scores.get(runId) ?? new Map()).entries()]
      .map(([requestorId, p]) => ({
        requestorId,
        score: p.score,
        totalAnswerMs: p.totalAnswerMs,
        firstAnsweredAt: p.firstAnsweredAt,
      }))
      .sort(compareStandings);
    return players.map((player, i) => {
      const stored = i < (options.namesFor ?? Infinity) ? this.names.get(player.requestorId) : undefined;
      const nickname = stored?.nickname ?? null;
      const hidden = stored?.hidden ?? false;
      return { ...player, nickname, hidden, name: displayName(nickname, hidden, player.requestorId) };
    });
  }

  async setNickname(requestorId: string, nickname: string): Promise<string> {
    this.names.set(requestorId, {
      requestorId,
      nickname,
      hidden: this.names.get(requestorId)?.hidden ?? false,
    });
    return nickname;
  }

  async setHidden(requestorId: string, hidden: boolean): Promise<void> {
    this.names.set(requestorId, {
      requestorId,
      nickname: this.names.get(requestorId)?.nickname ?? null,
      hidden,
    });
  }

  async namesLocked(channelId: string): Promise<boolean> {
    return this.locked.has(channelId);
  }
}

type Channels = LifecycleStore['channels'];

export class MemoryChannels implements Channels {
  readonly claims = new Map<string, ChannelClaim & { released?: string }>();
  readonly runs = new Map<string, RunChannel>();

  async claim(claim: ChannelClaim, now: Date): Promise<ClaimOutcome> {
    const held = this.claims.get(claim.channelId);
    const free =
      !held ||
      held.released !== undefined ||
      held.runId === claim.runId ||
      Date.parse(held.leaseUntil) < now.getTime();
    if (!free) return { claimed: false, holder: { ...held } };
    this.claims.set(claim.channelId, { ...claim });
    return { claimed: true };
  }

  /** The run holding the channel now, if any. */
  holder(channelId: string): ChannelClaim | undefined {
    const held = this.claims.get(channelId);
    return held && held.released === undefined ? held : undefined;
  }

  async release(channelId: string, runId: string): Promise<boolean> {
    const held = this.claims.get(channelId);
    if (!held || held.released !== undefined || held.runId !== runId) return false;
    held.released = runId;
    return true;
  }

  async putRunChannel(run: RunChannel): Promise<void> {
    this.runs.set(run.runId, { ...run });
  }

  async runChannel(runId: string): Promise<RunChannel | undefined> {
    return this.runs.get(runId);
  }
}

export class MemoryStore implements ApiStore, LifecycleStore {
  readonly polls = new Map<string, PollRecord>();
  readonly answers = new Map<string, Answer[]>();
  readonly current = new Map<string, string>();
  readonly channels = new MemoryChannels();
  readonly scores = new MemoryScores();

  async getPoll(pollId: string): Promise<PollRecord | undefined> {
    const poll = this.polls.get(pollId);
    return poll && structuredClone(poll);
  }

  async requirePoll(pollId: string): Promise<PollRecord> {
    const poll = await this.getPoll(pollId);
    if (!poll) throw new RefusedError({ reason: 'unknown_poll', message: `poll_id: no poll ${pollId}` });
    return poll;
  }

  async openPoll(
    record: Omit<PollRecord, 'voteShards'> & Partial<Pick<PollRecord, 'voteShards'>>,
  ): Promise<PollRecord> {
    const stored = this.polls.get(record.pollId);
    if (stored) return structuredClone(stored);
    const opened: PollRecord = { ...record, voteShards: record.voteShards ?? DEFAULT_VOTE_SHARDS };
    this.polls.set(record.pollId, structuredClone(opened));
    return opened;
  }

  async setCurrentPoll(channelId: string, pollId: string): Promise<void> {
    this.current.set(channelId, pollId);
  }

  async getCurrentPoll(channelId: string): Promise<PollRecord | undefined> {
    const pollId = this.current.get(channelId);
    return pollId === undefined ? undefined : this.getPoll(pollId);
  }

  async recordVote(
    poll: PollRecord,
    requestorId: string,
    answer: number,
    now: Date,
    elapsedMs?: number,
  ): Promise<VoteResponse> {
    const refusal = voteRefusal(poll, answer, now);
    if (refusal) throw new RefusedError(refusal);
    const answers = this.answers.get(poll.pollId) ?? [];
    if (answers.some((a) => a.requestorId === requestorId)) {
      throw new RefusedError({
        reason: 'already_answered',
        message: `requestor_id: ${requestorId} already answered ${poll.pollId}`,
      });
    }
    const scored = scoreOf(poll, answer, elapsedMs, now);
    answers.push({ requestorId, answer, at: now.getTime(), ...(scored ? { points: scored.points } : {}) });
    this.answers.set(poll.pollId, answers);
    if (scored) {
      this.scores.addScore({
        runId: poll.runId,
        pollId: poll.pollId,
        requestorId,
        shards: poll.scoreShards ?? poll.voteShards,
        points: scored.points,
        elapsedMs: scored.elapsedMs,
        at: now,
      });
    }
    return {
      poll_id: poll.pollId,
      requestor_id: requestorId,
      answer,
      timestamp_created: now.getTime(),
      timestamp_ttl: Math.floor(now.getTime() / 1000) + ANSWER_TTL_SECONDS,
    };
  }

  #count(poll: PollRecord, answerCount = poll.answers.length): number[] {
    return countAnswers(
      (this.answers.get(poll.pollId) ?? []).map((a) => a.answer),
      answerCount,
    );
  }

  async liveCounts(poll: PollRecord, answerCount = poll.answers.length): Promise<number[]> {
    return this.#count(poll, answerCount);
  }

  async view(poll: PollRecord, now: Date): Promise<PollView> {
    return viewPoll(poll, isRecounted(poll) ? [] : this.#count(poll), now);
  }

  async closePoll(pollId: string, now: Date): Promise<PollRecord> {
    const poll = await this.requirePoll(pollId);
    const closed: PollRecord = {
      ...poll,
      state: 'closed',
      finalCounts: this.#count(poll),
      closedAt: now.toISOString(),
    };
    if (poll.correct !== undefined) {
      closed.pointsGiven = (this.answers.get(pollId) ?? []).reduce((sum, a) => sum + (a.points ?? 0), 0);
    }
    this.polls.set(pollId, structuredClone(closed));
    return closed;
  }

  async endPoll(pollId: string, now: Date, reason?: RunEndReason): Promise<boolean> {
    const poll = this.polls.get(pollId);
    if (poll?.state !== 'open' || Date.parse(poll.closesAt) <= now.getTime()) return false;
    poll.closesAt = now.toISOString();
    if (reason) poll.closedBy = reason;
    return true;
  }

  async markResultsSent(pollId: string, at: Date): Promise<void> {
    const poll = this.polls.get(pollId);
    if (!poll) throw new Error(`no poll ${pollId}`);
    poll.resultsAt = at.toISOString();
  }

  /** A viewer's answers, newest first; the cursor is the number of answers already listed. */
  async history(requestorId: string, limit: number, cursor?: string): Promise<HistoryPage> {
    const start = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isSafeInteger(start) || start < 0)
      throw new RefusedError({ reason: 'invalid_cursor', message: 'cursor: not a cursor this API returned' });
    const mine = [...this.answers.entries()]
      .flatMap(([pollId, answers]) =>
        answers.filter((a) => a.requestorId === requestorId).map((a) => ({ pollId, ...a })),
      )
      .sort((a, b) => b.at - a.at);
    const items = mine.slice(start, start + limit).map((a): HistoryEntry => {
      const poll = this.polls.get(a.pollId)!;
      const entry: HistoryEntry = {
        poll_id: a.pollId,
        answer: a.answer,
        answered_at: new Date(a.at).toISOString(),
        question: poll.question,
        answers: poll.answers,
        state: poll.state,
      };
      if (poll.state === 'closed' && poll.correct !== undefined) entry.correct = poll.correct;
      if (poll.closedBy) entry.closed_by = poll.closedBy;
      if (isRecounted(poll) && poll.correct !== undefined && a.points !== undefined) entry.points = a.points;
      return entry;
    });
    return { items, next_cursor: start + limit < mine.length ? String(start + limit) : null };
  }
}
