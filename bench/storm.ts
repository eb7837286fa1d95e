// A vote storm on the local stack. A real show is started through the local Step
// Functions (the `showrunner start` CLI), so the real lifecycle opens and closes the poll and sends
// its cues. Simulated viewers:
//   watchers  follow the live playlist (/live/local/index.m3u8) as a player does, download every
//             segment and read the cues from its ID3 PRIV frames (test/ivs/ts-reader.ts);
//   viewers   each belongs to one watcher and sees what it sees, held back like a player that far
//             behind live. A share of them (ASSUMPTIONS.answeringShare) answer: POST /api/requestor-put.
// The storm curve (core/sizing.ts ASSUMPTIONS): viewers see the question spread over half the
// answer window by their latencies (each watcher's hold-back, uniform over 0…window/2) and answer
// within the other half (uniform over 0…window/2): the sum of the two is a triangle over the window
// whose peak is twice its average (peakToAverage 2; 100,000 viewers: 7,500 votes/s on average over
// 8 s, 15,000/s at the peak).
// `seedPolling` adds the seed's live bars: every viewer who answered polls GET /poll-get every 2 s
// until its player shows the results.
// Figures: votes accepted, lost and doubled (acknowledged 201s against the recount in the results cue
// and in /poll-get), 4xx/5xx, latency, and how long after the last vote a tally cue that counts it is
// in the stream. With a metered stack (`--meter`) also what the edge counted (local/meter.ts), which
// bench/capacity.ts turns into a request pattern.
import { viewerAuthorization } from '../test/support/viewer.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ASSUMPTIONS } from '../core/sizing.ts';
import type { RunLeaderboard, RunResults } from '../contract/producer.ts';
import { DEFAULT_POINTS, scoreVote } from '../core/scoring.ts';
import { decodeCue, type Cue } from '../contract/cues.ts';
import { IVS_PRIV_OWNER } from '../local/ivs/id3.ts';
import { METER_PATH, type MeterSnapshot } from '../local/meter.ts';
import { demux, readPrivFrames } from '../test/ivs/ts-reader.ts';
import { ROOT, startStack, type StackProcess } from '../test/support/stack.ts';
import { percentile, round } from './lib.ts';

const run = promisify(execFile);
/** The ID3 stream's PID and PES stream id in our segments and in IVS's (FIELD-NOTES). */
const ID3_PID = 0x102;
const PRIVATE_STREAM_1 = 0xbd;
const ANSWER_WEIGHTS = [0.4, 0.3, 0.2, 0.1];

export interface StormOptions {
  /** Simulated viewers (the audience). */
  viewers: number;
  /** How many of them really follow the playlist (the others see what their watcher sees). */
  watchers: number;
  /** The seed's live bars: answered viewers poll GET /poll-get every this many seconds (0: never). */
  pollEverySeconds: number;
  /** Seconds the poll is open (its `duration`; the show's latencyGraceSeconds is added by the lifecycle). */
  duration: number;
  seed: number;
  /**
   * Quiz scoring on (issue 22): the question is a quiz question (`correct`: the first answer) of a
   * show with `"scoring":{"speed":true}`, votes carry `elapsed_ms` (the time from seeing the
   * question to the tap), and after the close the standings are checked against the acknowledged
   * votes: no vote and no point lost.
   */
  scoring: boolean;
}

export const STORM_DEFAULTS: StormOptions = {
  viewers: 2_000,
  watchers: 20,
  pollEverySeconds: 0,
  duration: 15,
  seed: 12,
  scoring: false,
};

/** The quiz question's right answer and worth in a storm with scoring on (the show's default points). */
const STORM_CORRECT = 0;
const STORM_POINTS = DEFAULT_POINTS;

/**
 * With scoring on: the standings after the close (`showrunner leaderboard RUN --json`) against the
 * votes the API acknowledged. With one quiz question a player's total answer time is that vote's
 * accepted time (boundElapsed), so each acknowledged vote's points follow from its answer and its
 * accepted time alone (scoreVote); the accepted time may never be below what the vote claimed.
 */
export interface StormScoring {
  /** Players in the standings; acknowledged voters. */
  players: number;
  /** Acknowledged voters missing from the standings (a vote lost to scoring). */
  players_missing: number;
  /** Players who were not acknowledged, beyond the 5xx and network errors that may have landed. */
  players_extra: number;
  /** Right answers among the acknowledged votes. */
  correct_votes: number;
  /** Σ over acknowledged votes of scoreVote(answer, accepted time): what the standings must hold. */
  points_expected: number;
  /** Σ of the standings' scores. */
  points_standings: number;
  /** What the close recorded the question gave (`showrunner results` points_given). */
  points_given: number | null;
  /** Points acknowledged votes earned that the standings do not hold (expected − held, per player, ≥ 0). */
  points_lost: number;
  /** Players whose score is not what their acknowledged vote earns. */
  score_mismatches: number;
  /** Votes whose accepted time is below their claim or above the duration (boundElapsed never does that). */
  elapsed_out_of_bounds: number;
  /** The leaderboard said final (every quiz question closed). */
  final: boolean | null;
  /** Close → the standings read by the producer's CLI (ms, the whole `showrunner leaderboard` run). */
  leaderboard_cli_ms: number;
}

export interface StormResult {
  design: string;
  viewers: number;
  watchers: number;
  /** Distinct partition keys the poll's votes were written to (its shards that got a vote). */
  vote_keys: number | null;
  /** The local per-key write cap (write units/s per partition key and item), or null. */
  write_cap: number | null;
  votes_sent: number;
  accepted: number;
  refused_4xx: number;
  errors_5xx: number;
  network_errors: number;
  /** The poll's final counts: results cue in the stream, and GET /poll-get after the close. */
  results_cue_total: number | null;
  poll_get_total: number | null;
  /** Acknowledged but not in the final count. */
  lost: number | null;
  /** Counted more often than acknowledged, beyond the 5xx answers that may have landed. */
  doubled: number | null;
  /** Votes/s sent, averaged over the answer window and in its busiest second. */
  votes_per_s_avg: number;
  votes_per_s_peak: number;
  p50_ms: number;
  p99_ms: number;
  /** Tally cues read from the stream while the poll was open. */
  tally_cues: number;
  /** Last acknowledged vote → a tally cue counting every acknowledged vote in a segment (ms). */
  tally_lag_ms: number | null;
  tally_lag_note?: string;
  /** GET /poll-get requests (the seed's live bars) and their share answered 2xx. */
  poll_gets: number;
  /** With scoring on: the standings checked against the acknowledged votes. */
  scoring?: StormScoring;
}

/** What the pattern of bench/capacity.ts needs besides the figures. */
export interface StormMeasurement {
  result: StormResult;
  pollId: string;
  meter: MeterSnapshot | undefined;
  /** Sum over answered viewers of the seconds they spent polling (the seed's live bars). */
  pollingViewerSeconds: number;
  /** Poll cue → results cue, as the live-edge watcher read them (seconds). */
  openSeconds: number | null;
}

/** mulberry32: a small seeded PRNG, so a storm is the same storm every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** The cues in one MPEG-TS segment: the PRIV frames of IVS's owner on the ID3 PID. */
export function cuesInSegment(segment: Buffer): Cue[] {
  const cues: Cue[] = [];
  for (const pes of demux(segment).pes) {
    if (pes.pid !== ID3_PID || pes.streamId !== PRIVATE_STREAM_1) continue;
    for (const frame of readPrivFrames(pes.payload)) {
      if (frame.owner !== IVS_PRIV_OWNER) continue;
      const cue = decodeCue(frame.data.toString('utf8'));
      if (cue) cues.push(cue);
    }
  }
  return cues;
}

interface SeenCue {
  cue: Cue;
  /** When the watcher had the segment (ms since epoch, before its hold-back). */
  at: number;
}

/** Follows the live playlist until stopped; calls `onCue` with every cue of every new segment. */
async function watch(
  playlistUrl: string,
  stopped: () => boolean,
  onCue: (seen: SeenCue) => void,
  startDelayMs: number,
): Promise<number> {
  await sleep(startDelayMs);
  const seen = new Set<string>();
  let segments = 0;
  let first = true;
  while (!stopped()) {
    try {
      const text = await (await fetch(playlistUrl)).text();
      const uris = text.split('\n').filter((line) => line && !line.startsWith('#'));
      // A player starts near the live edge: the last two segments, not the whole window.
      const fresh = (first ? uris.slice(-2) : uris).filter((uri) => !seen.has(uri));
      first = false;
      for (const uri of fresh) {
        seen.add(uri);
        const response = await fetch(new URL(uri, playlistUrl));
        if (!response.ok) continue;
        const data = Buffer.from(await response.arrayBuffer());
        segments++;
        const at = Date.now();
        try {
          for (const cue of cuesInSegment(data)) onCue({ cue, at });
        } catch {
          // a segment cut mid-write is the next playlist's to list again; nothing to read here
        }
      }
    } catch {
      // the stack is busy: try again
    }
    await sleep(250);
  }
  return segments;
}

async function showrunner(stack: StackProcess, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['cli/showrunner.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, EDGE_URL: stack.edgeUrl, AWS_ENDPOINT_URL: '' },
  });
  return stdout;
}

async function meterSnapshot(stack: StackProcess): Promise<MeterSnapshot | undefined> {
  const response = await fetch(`${stack.edgeUrl}${METER_PATH}`);
  if (!response.ok) {
    await response.arrayBuffer();
    return undefined;
  }
  return (await response.json()) as MeterSnapshot;
}

/** Runs one show with one poll and a storm of votes on it. The stack should be fresh (or at least idle). */
export async function runStorm(
  stack: StackProcess,
  design: string,
  partial: Partial<StormOptions> = {},
  log = (_: string) => {},
): Promise<StormMeasurement> {
  const options = { ...STORM_DEFAULTS, ...partial };
  const rand = random(options.seed);
  const halfWindowMs = (ASSUMPTIONS.answerWindowSeconds * 1000) / 2;
  const playlistUrl = `${stack.appUrl}/live/local/index.m3u8`;

  const show = {
    id: 'storm',
    title: 'Vote storm',
    latencyGraceSeconds: 5,
    ...(options.scoring ? { scoring: { speed: true } } : {}),
    polls: [
      {
        id: 'q',
        at: 5,
        question: 'Which answer?',
        answers: ANSWER_WEIGHTS.map((_, i) => `Answer ${i + 1}`),
        duration: options.duration,
        ...(options.scoring ? { correct: STORM_CORRECT, points: STORM_POINTS } : {}),
      },
    ],
  };
  const file = join(await mkdtemp(join(tmpdir(), 'bench-storm-')), 'show.json');
  await writeFile(file, JSON.stringify(show));

  // Watchers first, so they are following the stream when the question is asked.
  let stop = false;
  const watcherHoldBack = Array.from(
    { length: options.watchers },
    (_, w) => (options.watchers === 1 ? 0 : w / (options.watchers - 1)) * halfWindowMs,
  );
  const pollSeen: Array<number | undefined> = [];
  const resultsSeen: Array<number | undefined> = [];
  const tallies: SeenCue[] = [];
  /** The poll the watchers look for, once the run has started. */
  const target = { pollId: '' };
  let resultsCue: Extract<Cue, { type: 'results' }> | undefined;
  const watchers = watcherHoldBack.map((_, w) =>
    watch(
      playlistUrl,
      () => stop,
      ({ cue, at }) => {
        if (!target.pollId || cue.poll_id !== target.pollId) return;
        if (cue.type === 'poll' && pollSeen[w] === undefined) pollSeen[w] = at;
        if (cue.type === 'results' && resultsSeen[w] === undefined) {
          resultsSeen[w] = at;
          resultsCue = cue;
        }
        if (cue.type === 'tally' && w === 0) tallies.push({ cue, at });
      },
      (w % 10) * 25,
    ),
  );

  await fetch(`${stack.edgeUrl}${METER_PATH}/reset`, { method: 'POST' }).then((r) => r.arrayBuffer());
  const started = JSON.parse(await showrunner(stack, 'start', file, '--json')) as { runId: string };
  const pollId = `${started.runId}:q`;
  target.pollId = pollId;
  log(`storm (${design}): run ${started.runId}, ${options.viewers} viewers, ${options.watchers} watchers`);

  // Every viewer: which watcher it follows, whether and what it answers, how long it takes.
  const voters = Array.from({ length: options.viewers }, (_, i) => ({
    i,
    watcher: i % options.watchers,
    answers: rand() < ASSUMPTIONS.answeringShare,
    answer: pick(rand(), ANSWER_WEIGHTS),
    delayMs: rand() * halfWindowMs,
  })).filter((v) => v.answers);

  const latencies: number[] = [];
  const sentAt: number[] = [];
  const ackedAt: number[] = [];
  let accepted = 0;
  let refused = 0;
  let errors = 0;
  let networkErrors = 0;
  let pollGets = 0;
  let pollingMs = 0;
  const acked = ANSWER_WEIGHTS.map(() => 0);
  /** Each acknowledged vote: its answer and the elapsed time it claimed. */
  const ackedVotes = new Map<string, { answer: number; claimedMs: number }>();
  const closedBy = () => resultsSeen.some((t) => t !== undefined);

  const vote = async (v: (typeof voters)[number]) => {
    while (pollSeen[v.watcher] === undefined) {
      if (stop) return;
      await sleep(50);
    }
    const seenAt = pollSeen[v.watcher]! + watcherHoldBack[v.watcher]!;
    await sleep(seenAt + v.delayMs - Date.now());
    const t = performance.now();
    sentAt.push(Date.now());
    try {
      const requestorId = `storm-${started.runId}-${v.i}`;
      const response = await fetch(`${stack.apiUrl}/requestor-put`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: viewerAuthorization(stack, requestorId),
        },
        body: JSON.stringify({
          poll_id: pollId,
          requestor_id: requestorId,
          answer: v.answer,
          // The page's claim: video time from the question's frame to the tap.
          ...(options.scoring ? { elapsed_ms: Math.round(v.delayMs) } : {}),
        }),
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t);
      if (response.status === 201) {
        accepted++;
        acked[v.answer]!++;
        ackedAt.push(Date.now());
        ackedVotes.set(requestorId, { answer: v.answer, claimedMs: Math.round(v.delayMs) });
      } else if (response.status >= 500) errors++;
      else refused++;
      if (response.status !== 201 || options.pollEverySeconds <= 0) return;
    } catch {
      networkErrors++;
      return;
    }
    // The seed's live bars: GET /poll-get every 2 s until this viewer's player shows the results.
    const from = Date.now();
    while (!stop) {
      await sleep(options.pollEverySeconds * 1000);
      const results = resultsSeen[v.watcher];
      if (results !== undefined && Date.now() >= results + watcherHoldBack[v.watcher]!) break;
      if (stop || closedBy()) break;
      try {
        pollGets++;
        await (await fetch(`${stack.apiUrl}/poll-get?poll_id=${encodeURIComponent(pollId)}`)).arrayBuffer();
      } catch {
        networkErrors++;
      }
    }
    pollingMs += Date.now() - from;
  };

  const votes = Promise.all(voters.map(vote));
  // Until the results cue is in the stream (the close waits VOTE_SETTLE_MS after closes_at).
  const deadline = Date.now() + (5 + options.duration + 5 + 30 + 30) * 1000;
  while (!closedBy() && Date.now() < deadline) await sleep(250);
  if (!closedBy()) log(`storm (${design}): no results cue within the show's time`);
  await votes;
  const meter = await meterSnapshot(stack);
  stop = true;
  await Promise.all(watchers);

  const view = (await (
    await fetch(`${stack.apiUrl}/poll-get?poll_id=${encodeURIComponent(pollId)}`)
  ).json()) as { total?: number; counts?: number[]; state?: string };
  const finalCounts = resultsCue?.counts ?? view.counts;
  const lost = finalCounts ? acked.reduce((n, a, i) => n + Math.max(0, a - (finalCounts[i] ?? 0)), 0) : null;
  const surplus = finalCounts
    ? acked.reduce((n, a, i) => n + Math.max(0, (finalCounts[i] ?? 0) - a), 0)
    : null;

  // The tally lag: the first tally cue counting every acknowledged vote, after the last acknowledgement.
  const lastAck = ackedAt.length ? Math.max(...ackedAt) : undefined;
  const complete = tallies.find((t) => t.cue.type === 'tally' && t.cue.total >= accepted);
  let tallyLag: number | null = null;
  let tallyNote: string | undefined;
  if (tallies.length === 0)
    tallyNote = 'no tally cue in the stream: the lifecycle does not send live tallies (yet)';
  else if (!complete || lastAck === undefined)
    tallyNote = 'no tally cue counted every acknowledged vote before the results';
  else tallyLag = Math.max(0, complete.at - lastAck);

  // Votes/s sent: 1 s buckets over the storm.
  const buckets = new Map<number, number>();
  for (const t of sentAt) buckets.set(Math.floor(t / 1000), (buckets.get(Math.floor(t / 1000)) ?? 0) + 1);
  const span = sentAt.length ? (Math.max(...sentAt) - Math.min(...sentAt)) / 1000 : 0;
  latencies.sort((a, b) => a - b);
  const openSeconds =
    pollSeen[0] !== undefined && resultsSeen[0] !== undefined ? (resultsSeen[0] - pollSeen[0]) / 1000 : null;
  const shards = (meter?.dynamodb.partition_keys ?? []).filter((k) => k.key.startsWith(`${pollId}#`)).length;

  const scoring = options.scoring
    ? await checkScoring(stack, started.runId, ackedVotes, options.duration * 1000, errors + networkErrors)
    : undefined;

  const result: StormResult = {
    design,
    viewers: options.viewers,
    watchers: options.watchers,
    vote_keys: meter ? shards : null,
    write_cap: meter?.write_cap_per_key ?? null,
    votes_sent: sentAt.length,
    accepted,
    refused_4xx: refused,
    errors_5xx: errors,
    network_errors: networkErrors,
    results_cue_total: resultsCue?.total ?? null,
    poll_get_total: view.state === 'closed' ? (view.total ?? null) : null,
    lost,
    doubled: surplus === null ? null : Math.max(0, surplus - errors - networkErrors),
    votes_per_s_avg: round(sentAt.length / Math.max(1, span)),
    votes_per_s_peak: Math.max(0, ...buckets.values()),
    p50_ms: round(percentile(latencies, 50)),
    p99_ms: round(percentile(latencies, 99)),
    tally_cues: tallies.length,
    tally_lag_ms: tallyLag === null ? null : round(tallyLag, 0),
    ...(tallyNote ? { tally_lag_note: tallyNote } : {}),
    poll_gets: pollGets,
    ...(scoring ? { scoring } : {}),
  };
  return { result, pollId, meter, pollingViewerSeconds: pollingMs / 1000, openSeconds };
}

/** The standings and the results after the close, read as a producer does, against the acknowledged votes. */
async function checkScoring(
  stack: StackProcess,
  runId: string,
  ackedVotes: ReadonlyMap<string, { answer: number; claimedMs: number }>,
  durationMs: number,
  maybeLanded: number,
): Promise<StormScoring> {
  const t = performance.now();
  const board = JSON.parse(await showrunner(stack, 'leaderboard', runId, '--json')) as RunLeaderboard;
  const leaderboardMs = performance.now() - t;
  const results = JSON.parse(await showrunner(stack, 'results', runId, '--json')) as RunResults;
  const byId = new Map(board.standings.map((s) => [s.requestor_id, s]));
  let missing = 0;
  let expected = 0;
  let lost = 0;
  let mismatches = 0;
  let outOfBounds = 0;
  let correctVotes = 0;
  for (const [requestorId, vote] of ackedVotes) {
    if (vote.answer === STORM_CORRECT) correctVotes++;
    const standing = byId.get(requestorId);
    const accepted = standing?.total_answer_ms ?? Math.min(vote.claimedMs, durationMs);
    const earns = scoreVote({
      correct: STORM_CORRECT,
      answer: vote.answer,
      points: STORM_POINTS,
      speed: true,
      durationMs,
      elapsedMs: accepted,
    });
    expected += earns;
    if (!standing) {
      missing++;
      lost += earns;
      continue;
    }
    if (standing.score !== earns) mismatches++;
    lost += Math.max(0, earns - standing.score);
    if (accepted < Math.min(vote.claimedMs, durationMs) || accepted > durationMs) outOfBounds++;
  }
  const extra = board.standings.filter((s) => !ackedVotes.has(s.requestor_id)).length;
  return {
    players: board.players,
    players_missing: missing,
    players_extra: Math.max(0, extra - maybeLanded),
    correct_votes: correctVotes,
    points_expected: expected,
    points_standings: board.standings.reduce((n, s) => n + s.score, 0),
    points_given: results.polls[0]?.points_given ?? null,
    points_lost: lost,
    score_mismatches: mismatches,
    elapsed_out_of_bounds: outOfBounds,
    final: board.final,
    leaderboard_cli_ms: round(leaderboardMs, 0),
  };
}

function pick(r: number, weights: readonly number[]): number {
  let acc = 0;
  for (const [i, w] of weights.entries()) {
    acc += w;
    if (r < acc) return i;
  }
  return weights.length - 1;
}

/** AWS's per-partition limit (1,000 write units/s) scaled down as the local audience is to 100,000. */
export function scaledWriteCap(viewers: number, designAudience = 100_000, partitionLimit = 1_000): number {
  return Math.max(1, Math.round((partitionLimit * viewers) / designAudience));
}

/**
 * A storm on a stack of its own: metered, with the per-key write cap scaled to the audience
 * (`capped`), and VOTE_SHARDS when given (1 = the seed's one key per poll).
 */
export async function stormOnOwnStack(
  design: string,
  options: Partial<StormOptions> & { voteShards?: number; capped?: boolean },
  log = (_: string) => {},
): Promise<StormMeasurement> {
  const viewers = options.viewers ?? STORM_DEFAULTS.viewers;
  const args = ['--meter', ...(options.capped ? ['--write-cap', String(scaledWriteCap(viewers))] : [])];
  const stack = await startStack({
    args,
    env: options.voteShards === undefined ? {} : { VOTE_SHARDS: String(options.voteShards) },
  });
  try {
    // The stream needs a few segments before watchers can follow it.
    await sleep(2000);
    return await runStorm(stack, design, options, log);
  } finally {
    await stack.stop();
  }
}
