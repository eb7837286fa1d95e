// One running show per channel, and a stop that ends cleanly, on the local stack as a user starts
// it (`node local/main.ts`), through the CLI (in this process), the producer API over HTTP and raw
// Step Functions StartExecution calls — as the Step Functions console starts a run.
//  - A second start on a busy channel is refused naming the running show, by the CLI and the API
//    before any run starts, and by the state machine itself at Plan (ChannelBusy) for a raw start;
//    `--replace` / `replace: true` stops the running show and takes over once it gave the channel back.
//  - Claims left behind: past its lease the state machine takes the channel; the CLI frees a claim
//    whose holder is not running at once.
//  - The demo loop steps aside while a producer's show holds the channel and resumes after it.
//  - A stop mid-question closes it as a normal close does and puts its results cue, with the vote,
//    into the stream within seconds; history, results, status, the producer API, /poll-get and the
//    viewer's history agree and say it was closed by the stop.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { main } from '../../cli/showrunner.ts';
import { decodeCue, type Cue } from '../../contract/cues.ts';
import { STATE_MACHINE_NAME } from '../../contract/state-machine.ts';
import { DEFAULT_CHANNEL_ARN } from '../../local/ivs/index.ts';
import { runDemoLoop } from '../../local/demo.ts';
import { localClientConfig } from '../../local/server.ts';
import { demux, readPrivFrames } from '../ivs/ts-reader.ts';
import { stackTable, type StackTable } from '../support/aws.ts';
import { api, startStack, type StackProcess } from '../support/stack.ts';
import { waitFor } from '../support/wait.ts';

const GHOST_CHANNEL = 'arn:aws:ivs:us-east-1:000000000000:channel/ghost';
const STATE_MACHINE_ARN = `arn:aws:states:us-east-1:000000000000:stateMachine:${STATE_MACHINE_NAME}`;
let stack: StackProcess;
let sfn: SFNClient;
let table: StackTable;
let token: string;
let dir: string;

beforeAll(async () => {
  // The default vote settle (VOTE_SETTLE_MS 6 s) and API poll cache (1 s): the stop figure is the real one.
  stack = await startStack({ env: { CUE_CHANNEL_ARNS: GHOST_CHANNEL } });
  sfn = new SFNClient(localClientConfig(stack.edgeUrl));
  table = stackTable(stack);
  token = /\/control\/#token=([A-Za-z0-9_-]+)/.exec(stack.output())![1]!;
  dir = await mkdtemp(join(tmpdir(), 'showrunner-channel-'));
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  table?.destroy();
  expect(await stack.stop()).toBe(0);
});

/** One CLI invocation in this process, against the stack's edge. */
async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    env: { EDGE_URL: stack.edgeUrl },
  });
  return { code, stdout, stderr };
}

const producer = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  api(stack, method, `/producer${path}`, body, { authorization: `Bearer ${token}` });

/** A show that runs until stopped: its one question waits for a cue. */
function waitingShow(id: string, title: string) {
  return {
    id,
    title,
    latencyGraceSeconds: 0,
    polls: [{ id: 'q1', at: 'manual', question: `${title}?`, answers: ['Yes', 'No'], duration: 30 }],
  };
}

async function showFile(show: { id: string }): Promise<string> {
  const file = join(dir, `${show.id}.json`);
  await writeFile(file, JSON.stringify(show));
  return file;
}

const describeRun = (executionArn: string) => sfn.send(new DescribeExecutionCommand({ executionArn }));
const arnOf = (runId: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${runId}`;
const ended = (executionArn: string) =>
  waitFor(`${executionArn} to end`, async () => {
    const d = await describeRun(executionArn);
    return d.status === 'RUNNING' ? undefined : d;
  });
const holderOf = async (channel = 'local') => (await table.store.channels.holder(channel))?.runId;
const channelFree = (channel = 'local') =>
  waitFor(
    `channel ${channel} to be free`,
    async () => ((await holderOf(channel)) ? undefined : true),
    30_000,
  );

async function runs(prefix: string) {
  const { executions = [] } = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN, maxResults: 1000 }),
  );
  return executions.filter((e) => e.name!.startsWith(prefix));
}

describe('one running show per channel', () => {
  it('CLI: a second start is refused naming the running show and how to stop it; --replace stops it and takes over', async () => {
    const first = JSON.parse(
      (await cli('start', await showFile(waitingShow('cats', 'Cat Facts Live')), '--json')).stdout,
    );
    expect(await holderOf()).toBe(first.runId);

    const second = await cli('start', await showFile(waitingShow('dogs', 'Dog Facts Live')));
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(
      `showrunner start: channel local is running ${first.runId} (Cat Facts Live): stop it with showrunner stop ${first.runId} or start with --replace\n`,
    );
    expect(await runs('dogs-')).toEqual([]); // nothing started
    expect((await describeRun(first.executionArn)).status).toBe('RUNNING');

    const replacing = await cli('start', await showFile(waitingShow('dogs', 'Dog Facts Live')), '--replace');
    expect(replacing.code).toBe(0);
    expect(replacing.stdout).toMatch(
      new RegExp(
        `^Replaced ${first.runId} \\("Cat Facts Live"\\): stopped, its last results sent, the channel given back\nStarted dogs-`,
      ),
    );
    const dogs = /Started (dogs-\S+)/.exec(replacing.stdout)![1]!;
    expect(await describeRun(first.executionArn)).toMatchObject({
      status: 'ABORTED',
      cause: `replaced by ${dogs} (Dog Facts Live)`,
    });
    expect((await describeRun(arnOf(dogs))).status).toBe('RUNNING');
    expect(await holderOf()).toBe(dogs);
  }, 60_000);

  it('producer API: 409 channel_busy naming the running show; replace: true stops it and starts', async () => {
    const running = (await holderOf())!;
    const show = waitingShow('birds', 'Bird Facts Live');
    const refused = await producer('POST', '/start', { show });
    expect(refused).toEqual({
      status: 409,
      json: {
        error: {
          code: 'channel_busy',
          message: `channel local is running ${running} (Dog Facts Live): stop it first, or start with replace to stop it and start this show`,
        },
      },
    });
    expect(await runs('birds-')).toEqual([]);

    const replaced = await producer('POST', '/start', { show, replace: true });
    expect(replaced.status).toBe(201);
    expect(replaced.json).toMatchObject({
      runId: expect.stringMatching(/^birds-/),
      channelArn: DEFAULT_CHANNEL_ARN,
      replaced: { runId: running, title: 'Dog Facts Live' },
    });
    expect((await describeRun(arnOf(running))).status).toBe('ABORTED');
    expect(await holderOf()).toBe(replaced.json.runId);
  }, 60_000);

  it('Step Functions StartExecution on a busy channel fails at Plan with ChannelBusy naming the running show; another channel is not busy', async () => {
    const running = (await holderOf())!;
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'console-start',
        input: JSON.stringify(waitingShow('console', 'Console start')),
      }),
    );
    const done = await ended(executionArn!);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('ChannelBusy');
    expect(done.cause).toMatch(
      new RegExp(
        `^channel local is running ${running} \\(Bird Facts Live\\): stop it with showrunner stop ${running} \\(or Stop in the control room\\), or start with --replace\\.`,
      ),
    );
    // The refused run changed nothing: the running show keeps the channel and runs on.
    expect(await holderOf()).toBe(running);
    expect((await describeRun(arnOf(running))).status).toBe('RUNNING');

    // Another channel has its own claim.
    const ghost = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'ghost-start',
        input: JSON.stringify({ ...waitingShow('ghost', 'Ghost channel'), channelArn: GHOST_CHANNEL }),
      }),
    );
    await waitFor(
      'the ghost run to take its channel',
      async () => (await holderOf('ghost')) === 'ghost-start',
    );
    expect((await describeRun(ghost.executionArn!)).status).toBe('RUNNING');

    // Both stopped: each end gives its own channel back.
    expect((await cli('stop', running)).code).toBe(0);
    expect((await cli('stop', 'ghost-start')).code).toBe(0);
    await channelFree('local');
    await channelFree('ghost');
  }, 60_000);

  it('a claim left behind: the state machine takes the channel past its lease; the CLI frees one whose run is not running at once', async () => {
    const claim = {
      channelId: 'local',
      channelArn: DEFAULT_CHANNEL_ARN,
      showId: 'crashed',
      title: 'Crashed show',
      startAt: new Date(Date.now() - 3_600_000).toISOString(),
      claimedAt: new Date(Date.now() - 3_600_000).toISOString(),
    };
    // A run that never gave the channel back, lease still ahead: the state machine cannot know it
    // ended (it has no Step Functions access) and honours the lease…
    const leftBehind = { ...claim, runId: 'crashed-1', executionArn: arnOf('crashed-1') };
    const ahead = new Date(Date.now() + 3_600_000).toISOString();
    expect(await table.store.channels.claim({ ...leftBehind, leaseUntil: ahead }, new Date())).toEqual({
      claimed: true,
    });
    const refused = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'lease-ahead',
        input: JSON.stringify(waitingShow('lease', 'Lease ahead')),
      }),
    );
    expect(await ended(refused.executionArn!)).toMatchObject({ status: 'FAILED', error: 'ChannelBusy' });
    // …the CLI asks Step Functions, finds no such run, frees the claim and starts.
    const started = await cli('start', await showFile(waitingShow('after-crash', 'After a crash')), '--json');
    expect(started.code).toBe(0);
    const { runId } = JSON.parse(started.stdout);
    expect(await holderOf()).toBe(runId);
    expect((await cli('stop', runId)).code).toBe(0);
    await channelFree();

    // Past its lease the state machine takes the channel itself.
    const lapsed = new Date(Date.now() - 1000).toISOString();
    const oldClaim = { ...claim, runId: 'crashed-2', executionArn: arnOf('crashed-2'), leaseUntil: lapsed };
    expect(await table.store.channels.claim(oldClaim, new Date(Date.now() - 60_000))).toEqual({
      claimed: true,
    });
    const taken = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'lease-lapsed',
        input: JSON.stringify(waitingShow('lapsed', 'Lease lapsed')),
      }),
    );
    await waitFor('the run to take the lapsed claim', async () => (await holderOf()) === 'lease-lapsed');
    expect((await describeRun(taken.executionArn!)).status).toBe('RUNNING');
    expect((await cli('stop', 'lease-lapsed')).code).toBe(0);
    await channelFree();
  }, 60_000);

  it('the demo loop steps aside while a producer’s show holds the channel and resumes after it ends', async () => {
    const log: string[] = [];
    const demoFile = await showFile({
      id: 'demo-loop',
      title: 'Demo loop',
      latencyGraceSeconds: 0,
      polls: [{ id: 'q1', at: 'manual', question: 'Demo?', answers: ['A', 'B'], duration: 5 }],
    } as { id: string });
    const demo = runDemoLoop({
      showFile: demoFile,
      edgeUrl: stack.edgeUrl,
      channelArn: DEFAULT_CHANNEL_ARN,
      leadInSeconds: 0,
      pauseSeconds: 1,
      channelCheckSeconds: 0.5,
      cueAfterSeconds: 3600, // the demo's question stays waiting: its run holds the channel until replaced
      log: (line) => log.push(line),
    });
    try {
      const demoRun = await waitFor('the demo to start a run', () =>
        log.map((l) => /^demo: started (demo-loop-\S+)/.exec(l)?.[1]).find(Boolean),
      );
      expect(await holderOf()).toBe(demoRun);

      // The producer's show replaces the demo's run; it ends by itself (one question, 5 s).
      const show = {
        id: 'producer',
        title: 'Producer show',
        latencyGraceSeconds: 0,
        polls: [{ id: 'q1', at: 1, question: 'Producer?', answers: ['A', 'B'], duration: 5 }],
      };
      const started = await cli('start', await showFile(show), '--replace', '--json');
      expect(started).toMatchObject({ code: 0, stderr: '' });
      const producerRun = JSON.parse(started.stdout) as { runId: string; executionArn: string };
      expect(JSON.parse(started.stdout).replaced).toMatchObject({ runId: demoRun });
      await waitFor('the demo to step aside', () =>
        log.some((l) =>
          l.startsWith(
            `demo: channel local is running ${producerRun.runId} (Producer show): the demo waits until it ends`,
          ),
        ),
      );
      const finished = await ended(producerRun.executionArn);
      expect(finished.status).toBe('SUCCEEDED');

      // The producer's run gave the channel back (ReleaseChannel), and only then did the demo start again.
      const next = await waitFor(
        'the demo to resume',
        () => log.map((l) => /^demo: started (demo-loop-\S+)/.exec(l)?.[1]).filter(Boolean)[1],
        30_000,
      );
      const { events = [] } = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn: producerRun.executionArn, maxResults: 1000 }),
      );
      const release = events.find(
        (e) => e.type === 'TaskScheduled' && e.taskScheduledEventDetails?.parameters?.includes('"release"'),
      );
      expect(release).toBeDefined();
      const resumed: DescribeExecutionCommandOutput = await describeRun(arnOf(next!));
      expect(resumed.startDate!.getTime()).toBeGreaterThanOrEqual(release!.timestamp!.getTime());
      // While the producer's show ran, the demo started nothing (and was never refused: it looked first).
      const demoRuns = await runs('demo-loop-');
      expect(demoRuns.map((r) => r.name).sort()).toEqual([demoRun, next].sort());
      expect(demoRuns.filter((r) => r.status === 'FAILED')).toEqual([]);
      expect(log).toContain('demo: channel free again, the demo resumes');
    } finally {
      await demo.stop();
      // Stopping the loop leaves its run going (it outlives the stack, like any run): stop it here.
      for (const run of await runs('demo-loop-'))
        if (run.status === 'RUNNING') expect((await cli('stop', run.name!)).code).toBe(0);
    }
    await channelFree();
  }, 90_000);
});

/** Every cue in the stream's segments, with when this reader first saw its segment in the playlist. */
class StreamCues {
  readonly seen = new Map<string, Array<{ cue: Cue; at: number }>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #reading = false;

  start(): void {
    this.#timer = setInterval(() => void this.read(), 200);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  async read(): Promise<void> {
    if (this.#reading) return;
    this.#reading = true;
    try {
      const base = `${stack.appUrl}/live/local/`;
      const playlist = await (await fetch(`${base}index.m3u8`)).text();
      for (const line of playlist.split('\n')) {
        if (!line || line.startsWith('#') || this.seen.has(line)) continue;
        const segment = Buffer.from(await (await fetch(new URL(line, base))).arrayBuffer());
        const at = Date.now();
        const cues = demux(segment)
          .pes.filter((p) => p.streamId === 0xbd)
          .flatMap((p) => readPrivFrames(p.payload))
          .map((f) => decodeCue(f.data.toString('utf8')))
          .filter((c): c is Cue => c !== undefined)
          .map((cue) => ({ cue, at }));
        this.seen.set(line, cues);
      }
    } finally {
      this.#reading = false;
    }
  }
  find(match: (cue: Cue) => boolean) {
    return [...this.seen.values()].flat().find((c) => match(c.cue));
  }
}

describe('a stop ends cleanly', () => {
  it('stopping mid-question closes it, its results cue (with the vote) is in the stream within 10 s, and every report agrees and says it was closed by the stop', async () => {
    await channelFree();
    const file = await showFile({
      id: 'stopped',
      title: 'Stopped mid-question',
      latencyGraceSeconds: 0,
      polls: [
        { id: 'q1', at: 1, question: 'Still open?', answers: ['Yes', 'No'], duration: 600 },
        { id: 'q2', at: 900, question: 'Never asked?', answers: ['Yes', 'No'], duration: 10 },
      ],
    } as { id: string });
    // `start --follow` runs alongside: it prints the result line for the question the stop closed.
    let followed = '';
    const following = main(['start', file, '--follow'], {
      out: (t) => (followed += t),
      err: (t) => (followed += t),
      env: { EDGE_URL: stack.edgeUrl },
    });
    const runId = await waitFor('the run to start', () => /^Started (stopped-\S+)/m.exec(followed)?.[1]);
    const pollId = `${runId}:q1`;
    await waitFor('q1 to be on air', async () => {
      const current = await api(stack, 'GET', '/poll-current?channel=local');
      return current.json.poll_id === pollId && current.json.state === 'open' ? true : undefined;
    });
    expect(
      (await api(stack, 'POST', '/requestor-put', { poll_id: pollId, requestor_id: 'viewer-a', answer: 0 }))
        .status,
    ).toBe(201);

    const stream = new StreamCues();
    await stream.read();
    stream.start();
    const stoppedAt = Date.now();
    const stopped = await cli('stop', runId);
    expect(stopped.stdout).toMatch(new RegExp(`^Stopped ${runId} \\(ABORTED\\)`));
    let results: { cue: Cue; at: number } | undefined;
    try {
      results = await waitFor(
        "q1's results cue in the stream",
        () => stream.find((c) => c.type === 'results' && c.poll_id === pollId),
        15_000,
      );
    } finally {
      stream.stop();
    }
    const seconds = (results.at - stoppedAt) / 1000;
    console.log(`stop → results cue in the stream: ${seconds.toFixed(2)} s`);
    expect(results.cue).toEqual({ v: 1, type: 'results', poll_id: pollId, counts: [1, 0], total: 1 });
    expect(seconds).toBeLessThan(10);
    // q2 was never asked: nothing of it went out.
    expect(stream.find((c) => c.poll_id === `${runId}:q2`)).toBeUndefined();

    // --follow printed the result line, then the end.
    expect(await following).toBe(1);
    const lines = followed.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/results +q1 +Yes 1 · No 0 {2}\(1 vote\) {2}— closed by the stop$/);
    expect(lines.at(-1)).toMatch(/end +ABORTED: Stopped — stopped by the producer \(showrunner stop\)$/);

    // Every report: closed, 1 vote (Yes 1, No 0), closed by the stop.
    const history = JSON.parse((await cli('history', runId, '--json')).stdout);
    expect(history.polls[0]).toMatchObject({ poll: 'q1', votes: 1, counts: [1, 0], closedBy: 'stop' });
    expect(history.polls[0].closedAt).not.toBeNull();
    expect(Date.parse(history.polls[0].resultsAt)).toBeGreaterThan(stoppedAt);
    expect(history.polls[1]).toMatchObject({ poll: 'q2', askedAt: null, votes: null });
    const historyText = (await cli('history', runId)).stdout;
    expect(historyText).toMatch(/q1 Still open\?.*\(stop\)\s+1\s+Yes 100%/);
    expect(historyText).toContain('q1: closed by the stop with 1 vote, results cue sent');

    const results1 = JSON.parse((await cli('results', runId, '--json')).stdout);
    expect(results1.polls[0]).toMatchObject({ state: 'closed', closedBy: 'stop', counts: [1, 0], total: 1 });
    expect((await cli('results', runId)).stdout).toMatch(
      /q1 Still open\? +closed \(closed by the stop\) +Yes 1 · No 0 +1/,
    );
    const csv = (await cli('results', runId, '--csv')).stdout;
    expect(csv).toContain(`${runId},q1,Still open?,closed,0,Yes,1,1,1.0000,,yes,stop`);

    const status = JSON.parse((await cli('status', runId, '--json')).stdout);
    expect(status).toMatchObject({
      status: 'ABORTED',
      open: null,
      closedByEnd: [{ poll: 'q1', closedBy: 'stop', counts: [1, 0], votes: 1 }],
    });
    expect((await cli('status', runId)).stdout).toMatch(
      /Closed +q1 "Still open\?" closed by the stop at \d\d:\d\d:\d\d: 1 vote \(Yes 1 · No 0\)/,
    );

    // The producer API (the control room reads these) says the same.
    const apiHistory = await producer('GET', `/history?runId=${runId}`);
    expect(apiHistory.json.polls[0]).toMatchObject({ counts: [1, 0], total: 1, closedBy: 'stop' });
    expect(apiHistory.json.cuesSent).toBe(2); // the ask, and the results the stop sent
    const apiResults = await producer('GET', `/results?runId=${runId}`);
    expect(apiResults.json.polls[0]).toMatchObject({ state: 'closed', closedBy: 'stop', counts: [1, 0] });
    const apiStatus = await producer('GET', `/status?runId=${runId}`);
    expect(apiStatus.json.progress.closedByEnd[0]).toMatchObject({ id: 'q1', closedBy: 'stop', total: 1 });

    // What viewers get.
    const view = await api(stack, 'GET', `/poll-get?poll_id=${encodeURIComponent(pollId)}`);
    expect(view.json).toMatchObject({ state: 'closed', counts: [1, 0], total: 1, closed_by: 'stop' });
    const mine = await api(stack, 'GET', '/requestor-get?requestor_id=viewer-a');
    expect(mine.json.items[0]).toMatchObject({
      poll_id: pollId,
      state: 'closed',
      answer: 0,
      closed_by: 'stop',
    });
    expect((await table.store.getPoll(pollId))!.closedBy).toBe('stop');

    // And the channel is free for the next show.
    expect(await holderOf()).toBeUndefined();
  }, 90_000);
});
