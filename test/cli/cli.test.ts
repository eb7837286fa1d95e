// The showrunner CLI against the local stack (DynamoDB, IVS, Step Functions, API): what a producer
// sees, checked through @aws-sdk/client-sfn, the local IVS channel and the REST API.
import { viewerAuthorization } from '../support/viewer.ts';
import { waitFor } from '../support/wait.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { ChannelRecorder } from '../ivs/recorder.ts';
import { cli, composeStack, type TestStack } from './local-stack.ts';

let stack: TestStack;
let env: Record<string, string>;
let dir: string;
/** Every PutMetadata the local IVS accepted: {at, payload}. */
const accepted: Array<{ at: number; payload: string }> = [];
/** Every segment the channel published (with its bytes) and the frame each accepted payload is due on. */
let recorder: ChannelRecorder;

beforeAll(async () => {
  stack = await composeStack();
  env = { EDGE_URL: stack.edgeUrl };
  dir = await mkdtemp(join(tmpdir(), 'showrunner-shows-'));
  const channel = stack.ivs.channel();
  channel.on('accepted', ({ payload }: { payload: string }) => accepted.push({ at: Date.now(), payload }));
  recorder = new ChannelRecorder(channel);
}, 60_000);
afterAll(async () => {
  await stack?.close();
}, 30_000);

async function showFile(name: string, show: unknown): Promise<string> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, typeof show === 'string' ? show : JSON.stringify(show, null, 2));
  return file;
}

async function history(executionArn: string): Promise<HistoryEvent[]> {
  const out = await stack.client.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return out.events ?? [];
}

function exited(events: HistoryEvent[], state: string) {
  return events
    .filter((e) => e.stateExitedEventDetails?.name === state)
    .map((e) => ({ at: e.timestamp!.getTime(), output: JSON.parse(e.stateExitedEventDetails!.output!) }));
}

async function status(executionArn: string) {
  return stack.client.send(new DescribeExecutionCommand({ executionArn }));
}

async function vote(pollId: string, requestorId: string, answer: number) {
  const res = await fetch(`${stack.appUrl}/api/requestor-put`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: viewerAuthorization(stack, requestorId) },
    body: JSON.stringify({ poll_id: pollId, requestor_id: requestorId, answer }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
}

async function runCount(): Promise<number> {
  const out = await stack.client.send(
    new ListExecutionsCommand({ stateMachineArn: stack.sfn.stateMachineArn }),
  );
  return out.executions?.length ?? 0;
}

describe('showrunner CLI on the local stack', () => {
  it('start --json runs the show: timed asks on their second, the manual one waits for `cue`, votes reach results and history', async () => {
    const file = await showFile('short', {
      id: 'cli-short',
      title: 'CLI short show',
      latencyGraceSeconds: 1,
      polls: [
        { id: 'q1', at: 2, question: 'First?', answers: ['A', 'B', 'C'], correct: 2, duration: 5 },
        { id: 'q2', at: 'manual', question: 'Second?', answers: ['Yes', 'No'], duration: 5 },
        { id: 'q3', at: 9, question: 'Third?', answers: ['Red', 'Blue'], duration: 5 },
      ],
    });
    const started = await cli(['start', file, '--json'], env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const { runId, executionArn, startAt } = JSON.parse(started.stdout) as {
      runId: string;
      executionArn: string;
      startAt: string;
    };
    expect(runId).toMatch(/^cli-short-\d{8}T\d{6}Z$/);
    expect(executionArn.endsWith(`:${runId}`)).toBe(true);

    // q1 asked: three votes during the poll, one after it closed (refused).
    await waitFor('q1 to be asked', async () => exited(await history(executionArn), 'AskCue')[0]);
    expect((await vote(`${runId}:q1`, 'viewer-a', 2)).status).toBe(201);
    expect((await vote(`${runId}:q1`, 'viewer-b', 2)).status).toBe(201);
    expect((await vote(`${runId}:q1`, 'viewer-c', 0)).status).toBe(201);
    expect((await vote(`${runId}:q1`, 'viewer-c', 1)).body.error?.code).toBe('already_answered');
    await waitFor('q1 to close', async () => exited(await history(executionArn), 'Close')[0]);
    const late = await vote(`${runId}:q1`, 'viewer-d', 1);
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'poll_closed' } } });

    // q3 (timed, after the manual q2) keeps its own clock; q2 waits until the producer cues it.
    await waitFor('q3 to be asked', async () =>
      exited(await history(executionArn), 'AskCue').find((e) => e.output.poll.id === 'q3'),
    );
    expect(exited(await history(executionArn), 'AskCue').map((e) => e.output.poll.id)).toEqual(['q1', 'q3']);
    const statusOut = await cli(['status', runId], env);
    expect(statusOut.stdout).toMatch(/Waiting\s+q2 "Second\?"/);
    const cued = await cli(['cue', runId, '--json'], env);
    expect(cued.stderr).toBe('');
    expect(JSON.parse(cued.stdout)).toMatchObject({ runId, poll: 'q2' });
    expect((await cli(['cue', runId], env)).stderr).toMatch(/no manual question .* is waiting/);
    await waitFor('the run to end', async () =>
      (await status(executionArn)).status === 'RUNNING' ? undefined : true,
    );
    expect((await status(executionArn)).status).toBe('SUCCEEDED');

    // Timed asks within 1 s of their scheduled second, every cue accepted by the local IVS PutMetadata.
    const events = await history(executionArn);
    const asks = exited(events, 'AskCue');
    for (const ask of asks.filter((a) => !a.output.poll.manual)) {
      const scheduled = Date.parse(ask.output.poll.askAt);
      expect(scheduled).toBe(Date.parse(startAt) + ask.output.poll.offsetSeconds * 1000);
      expect(ask.at - Math.floor(scheduled / 1000) * 1000).toBeLessThan(1000 + (scheduled % 1000));
      expect(ask.at - scheduled).toBeLessThan(1000);
    }
    const cuesOfRun = accepted
      .map((a) => JSON.parse(a.payload))
      .filter((c) => c.poll_id.startsWith(`${runId}:`));
    const asksAndResults = cuesOfRun.filter((c) => c.type !== 'tally');
    expect(asksAndResults.map((c) => `${c.poll_id.split(':')[1]}:${c.type}`).sort()).toEqual(
      // q1 is a quiz question: its standings follow its results (issue 22).
      ['q1:poll', 'q1:results', 'q1:leaderboard', 'q2:poll', 'q2:results', 'q3:poll', 'q3:results'].sort(),
    );
    // While q1 was open its live count went out as tally cues, only when it changed: the last one
    // has every vote; q2 and q3 got no votes, so no tally.
    const tallies = cuesOfRun.filter((c) => c.type === 'tally');
    expect(tallies.length).toBeGreaterThanOrEqual(1);
    expect(tallies.every((c) => c.poll_id === `${runId}:q1`)).toBe(true);
    expect(tallies.at(-1)).toEqual({
      v: 1,
      type: 'tally',
      poll_id: `${runId}:q1`,
      counts: [1, 0, 2],
      total: 3,
    });
    expect(new Set(tallies.map((c) => c.total)).size).toBe(tallies.length);
    // …and each is in the HLS stream, stamped on the next video frame, in that frame's segment. The run
    // ends as soon as its last PutMetadata is accepted, but that cue goes on air only with the next frame,
    // and its segment is published only when the following keyframe cuts it (~0.5 s, longer on a loaded
    // machine): wait for the published segments, not for the run.
    const ofRun = recorder.accepted.filter((a) => a.payload.toString('utf8').includes(`"${runId}:`));
    expect(ofRun).toHaveLength(7 + tallies.length);
    await waitFor(
      'the segments carrying every cue of the run to be published',
      async () => {
        const published = new Set(recorder.segments.flatMap((s) => s.segment.metadata.map((m) => m.id)));
        return ofRun.every((a) => published.has(a.id)) ? true : undefined;
      },
      10_000,
    );
    const inStream = recorder.privFrames();
    for (const cue of ofRun) {
      const found = inStream.filter((f) => f.data.equals(cue.payload));
      expect(found).toHaveLength(1);
      expect(found[0]!.pts).toBe(recorder.expectedPts(cue));
      expect(found[0]!.sameSegmentVideo).toBe(true);
    }
    const streamed = inStream
      .map((f) => JSON.parse(f.data.toString('utf8')))
      .filter((c) => c.poll_id.startsWith(`${runId}:`));
    expect(streamed.map((c) => `${c.poll_id.split(':')[1]}:${c.type}`).sort()).toEqual(
      cuesOfRun.map((c) => `${c.poll_id.split(':')[1]}:${c.type}`).sort(),
    );
    expect(cuesOfRun.find((c) => c.type === 'poll' && c.poll_id.endsWith(':q1'))).not.toHaveProperty(
      'correct',
    );

    // results --json: exactly the accepted votes; the quiz answer revealed; the winner named.
    const results = await cli(['results', runId, '--json'], env);
    expect(results.code).toBe(0);
    const polls = JSON.parse(results.stdout).polls as Array<Record<string, unknown>>;
    expect(polls[0]).toMatchObject({
      poll: 'q1',
      state: 'closed',
      counts: [1, 0, 2],
      total: 3,
      correct: 2,
      winner: ['C'],
    });
    expect(polls[1]).toMatchObject({ poll: 'q2', state: 'closed', counts: [0, 0], total: 0, winner: [] });
    const csv = await cli(['results', runId, '--csv'], env);
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'run_id,poll,question,state,answer_index,answer,votes,total,share,correct,winner,closed_by,points,points_given',
    );
    expect(csv.stdout).toContain(`${runId},q1,First?,closed,2,C,2,3,0.6667,yes,yes,,1000,`);

    // history: the readable table and its JSON agree with the execution history.
    const table = await cli(['history', runId], env);
    expect(table.stdout).toMatch(/QUESTION\s+SCHEDULED\s+ASKED\s+LATE BY\s+CLOSED\s+VOTES\s+RESULT/);
    expect(table.stdout).toMatch(/q1 First\?.*\+0\.\d\d s.*\s3\s+✓ C 67%/);
    expect(table.stdout).toMatch(/q2 Second\?\s+cued /);
    const json = JSON.parse((await cli(['history', runId, '--json'], env)).stdout);
    expect(json.polls.map((p: { poll: string; votes: number }) => [p.poll, p.votes])).toEqual([
      ['q1', 3],
      ['q2', 0],
      ['q3', 0],
    ]);
    expect(json.polls[0].lateMs).toBeLessThan(1000);
  }, 60_000);

  it('six questions cued in the same second are all asked: IVS throttles past 5/s and the state machine retries', async () => {
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
    const file = await showFile('six', {
      id: 'cli-six',
      title: 'Six at once',
      latencyGraceSeconds: 0,
      polls: ids.map((id) => ({
        id,
        at: 'manual',
        question: `Question ${id}?`,
        answers: ['Yes', 'No'],
        duration: 5,
      })),
    });
    const { runId, executionArn } = JSON.parse((await cli(['start', file, '--json'], env)).stdout);
    await waitFor('six cue waits', async () => {
      const waiting = (await history(executionArn)).filter((e) => e.type === 'TaskSubmitted');
      return waiting.length === 6 ? true : undefined;
    });
    // Six producers pressing "cue" at once (in-process, so they land in the same second).
    const { main } = await import('../../cli/showrunner.ts');
    const outputs: string[] = [];
    const codes = await Promise.all(
      ids.map(() =>
        main(['cue', runId, '--json'], {
          out: (t) => outputs.push(t),
          err: (t) => outputs.push(t),
          env: { ...process.env, ...env },
        }),
      ),
    );
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(outputs.map((o) => JSON.parse(o).poll).sort()).toEqual(ids);
    await waitFor('the run to end', async () =>
      (await status(executionArn)).status === 'RUNNING' ? undefined : true,
    );
    expect((await status(executionArn)).status).toBe('SUCCEEDED');
    const events = await history(executionArn);
    const asks = exited(events, 'AskCue');
    expect(asks.map((a) => a.output.poll.id).sort()).toEqual(ids);
    const throttled = events.filter(
      (e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === 'Ivs.ThrottlingException',
    );
    // How long the retries took is random (FULL jitter) and not asserted; the schedule benchmark
    // measures lateness.
    expect(throttled.length).toBeGreaterThan(0);
    expect(
      accepted.filter((a) => a.payload.includes(`"${runId}:`) && a.payload.includes('"type":"poll"')),
    ).toHaveLength(6);
    expect((await cli(['history', runId], env)).stdout).toMatch(/throttled by IVS and retried/);
  }, 60_000);

  it('start --follow prints each cue as it is sent and exits with the run', async () => {
    const file = await showFile('follow', {
      id: 'cli-follow',
      title: 'Followed',
      latencyGraceSeconds: 0,
      polls: [{ id: 'q1', at: 1, question: 'Followed?', answers: ['Yes', 'No'], correct: 0, duration: 5 }],
    });
    const out = await cli(['start', file, '--follow'], env);
    expect(out.code).toBe(0);
    const lines = out.stdout.split('\n');
    const ask = lines.findIndex((l) =>
      /^\d\d:\d\d:\d\d\.\d{3} {2}ask {6}q1 +"Followed\?" {2}\[Yes \| No\] {2}5 s {2}1000 points {2}\(\+0\.\d\d s\)$/.test(
        l,
      ),
    );
    const results = lines.findIndex((l) =>
      /results {2}q1 +Yes 0 · No 0 {2}\(0 votes\) {2}correct: Yes$/.test(l),
    );
    // A quiz question: its leaderboard follows its results (nobody played).
    const leaders = lines.findIndex((l) => /leaders {2}q1 +no player yet {2}\(0 players, final\)$/.test(l));
    const end = lines.findIndex((l) => /end +SUCCEEDED$/.test(l));
    expect([ask >= 0, results > ask, leaders > results, end > leaders]).toEqual([true, true, true, true]);
  }, 30_000);

  it('stop mid-show: ABORTED, the open question closes with its results cue, and no further questions', async () => {
    const file = await showFile('stoppable', {
      id: 'cli-stop',
      title: 'Stopped',
      latencyGraceSeconds: 0,
      polls: [
        { id: 'q1', at: 1, question: 'One?', answers: ['A', 'B'], duration: 5 },
        { id: 'q2', at: 7, question: 'Two?', answers: ['A', 'B'], duration: 5 },
      ],
    });
    const { runId, executionArn } = JSON.parse((await cli(['start', file, '--json'], env)).stdout);
    await waitFor('q1 to be asked', async () => exited(await history(executionArn), 'AskCue')[0]);
    const stopped = await cli(['stop', runId], env);
    expect(stopped.stdout).toMatch(/Stopped .* \(ABORTED\)/);
    const startedAt = (await status(executionArn)).startDate!.getTime();
    expect((await status(executionArn)).status).toBe('ABORTED');
    // q1 was open: the end of the run closes it as Close would and sends its results cue.
    await waitFor('q1 results', () =>
      accepted.find((a) => a.payload.includes(`"results"`) && a.payload.includes(`"${runId}:q1"`)),
    );
    // Past q2's time (7 s into the show): it was never asked.
    await waitFor('q2 time to pass', () => Date.now() > startedAt + 9000 || undefined, 15_000);
    expect(accepted.filter((a) => a.payload.includes(`"${runId}:q2"`))).toEqual([]);
    expect((await history(executionArn)).at(-1)!.type).toBe('ExecutionAborted');
    expect((await cli(['stop', runId], env)).stdout).toMatch(/already ABORTED/);
  }, 60_000);

  it('a bad show: validate and start fail with path-named errors, and nothing starts', async () => {
    const file = await showFile('bad', {
      id: 'cli-bad',
      title: 'Bad',
      polls: [{ id: 'q1', at: 5, question: 'Only one answer?', answers: ['Yes'] }],
    });
    const before = await runCount();
    const validated = await cli(['validate', file], env);
    expect(validated.code).toBe(1);
    expect(validated.stderr).toContain(`${file}: polls[0].answers: expected 2–6 answers, got 1`);
    const started = await cli(['start', file, '--json'], env);
    expect(started.code).toBe(1);
    expect(started.stdout).toBe('');
    expect(started.stderr).toContain(`${file}: polls[0].answers: expected 2–6 answers, got 1`);
    const badFlag = await cli(
      ['start', join(process.cwd(), 'shows/test-short.json'), '--channel', 'not-an-arn'],
      env,
    );
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--channel: expected an IVS channel ARN/);
    expect(await runCount()).toBe(before);
  }, 30_000);

  it('after a restart, past runs and their history are still listed', async () => {
    const listed = JSON.parse((await cli(['list', '--json'], env)).stdout) as Array<{
      runId: string;
      status: string;
    }>;
    expect(listed.length).toBeGreaterThanOrEqual(3);
    const before = (await cli(['history', listed.at(-1)!.runId], env)).stdout;
    const { dataDir, edgePort } = stack;
    await stack.close();
    stack = await composeStack({ dataDir, edgePort });
    const after = JSON.parse((await cli(['list', '--json'], env)).stdout) as Array<{
      runId: string;
      status: string;
    }>;
    expect(after).toEqual(listed);
    expect((await cli(['history', listed.at(-1)!.runId], env)).stdout).toBe(before);
  }, 60_000);
});
