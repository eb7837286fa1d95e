import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SUBSTITUTION_NAMES, substitutionNames } from '../../contract/state-machine.ts';
import { MAX_POLLS } from '../../core/show.ts';
import { DEFINITION_FILE, substitute } from '../../local/sfn/definition.ts';

// asl-validator ships no type declarations.
type AslValidator = (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const text = readFileSync(DEFINITION_FILE, 'utf8');
const values = {
  PollLifecycleFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:showrunner-poll-lifecycle',
  ChannelArn: 'arn:aws:ivs:us-east-1:000000000000:channel/abcdEFGH1234',
  TableName: 'showrunner-polls',
};

type State = Record<string, unknown>;
function allStates(machine: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    const inner = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    return [[name, state] as [string, State], ...(inner ? allStates(inner) : [])];
  });
}

describe('statemachine/show.asl.json', () => {
  it('is valid Amazon States Language (asl-validator), before and after substitution', () => {
    for (const definition of [JSON.parse(text), JSON.parse(substitute(text, values))]) {
      const { isValid, errorsText } = aslValidator(definition, { checkArn: true, checkPaths: true });
      expect(errorsText('\n')).toBe('');
      expect(isValid).toBe(true);
    }
  });

  it('uses exactly the documented DefinitionSubstitutions', () => {
    expect(substitutionNames(text).sort()).toEqual([...SUBSTITUTION_NAMES].sort());
    expect(() => substitute(text, { ChannelArn: 'x' })).toThrow(/PollLifecycleFunctionArn, TableName/);
  });

  it('is JSONPath only (JSONata states would silently do nothing locally) and state names are unique', () => {
    const definition = JSON.parse(text);
    expect(text).not.toMatch(/JSONata|QueryLanguage|"Arguments"|"Output"|\{%/);
    const names = allStates(definition).map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('waits on absolute timestamps, retries throttled cues with jitter and bounds the not-broadcasting retries', () => {
    const states = Object.fromEntries(allStates(JSON.parse(text)));
    expect(states.WaitUntilAsk).toMatchObject({ Type: 'Wait', TimestampPath: '$.poll.askAt' });
    expect(states.WaitUntilClose).toMatchObject({ Type: 'Wait', TimestampPath: '$.opened.closesAt' });
    expect(states.WaitForCue!.Resource).toMatch(/\.waitForTaskToken$/);
    for (const name of ['AskCue', 'ResultsCue']) {
      const state = states[name]!;
      expect(state.Resource).toBe('arn:aws:states:::aws-sdk:ivs:putMetadata');
      const retry = state.Retry as Array<{
        ErrorEquals: string[];
        MaxAttempts: number;
        IntervalSeconds: number;
        BackoffRate: number;
        JitterStrategy?: string;
      }>;
      const throttling = retry.find((r) => r.ErrorEquals.includes('Ivs.ThrottlingException'))!;
      expect(throttling.JitterStrategy).toBe('FULL');
      const notLive = retry.find((r) => r.ErrorEquals.includes('Ivs.ChannelNotBroadcastingException'))!;
      expect(notLive.MaxAttempts * notLive.IntervalSeconds).toBeLessThanOrEqual(60);
      expect(notLive.BackoffRate).toBe(1);
      expect(state.Catch).toEqual([
        expect.objectContaining({ ErrorEquals: ['Ivs.ChannelNotBroadcastingException'] }),
      ]);
    }
  });
});

describe('statemachine/show.asl.json against the Step Functions contract', () => {
  const definition = JSON.parse(text) as { States: Record<string, State> };
  const states = Object.fromEntries(allStates(definition));
  const errorNames = allStates(definition).flatMap(([name, state]) =>
    [
      ...((state.Retry as { ErrorEquals: string[] }[] | undefined) ?? []),
      ...((state.Catch as { ErrorEquals: string[] }[] | undefined) ?? []),
    ].flatMap((r) => r.ErrorEquals.map((error) => [name, error] as const)),
  );

  it('"Step Functions names every AWS SDK integration error <Service>.<Name>Exception": DynamoDb.RequestLimitExceededException, not DynamoDb.RequestLimitExceeded', () => {
    const sdkErrors = errorNames.filter(([, error]) => /^(DynamoDb|Ivs)\./.test(error));
    expect(sdkErrors.length).toBeGreaterThan(0);
    for (const [state, error] of sdkErrors) expect(`${state}: ${error}`).toMatch(/Exception$/);
    const cueRetry = (states.WaitForCue!.Retry as { ErrorEquals: string[] }[])[0]!.ErrorEquals;
    expect(cueRetry).toContain('DynamoDb.RequestLimitExceededException');
    expect(cueRetry).not.toContain('DynamoDb.RequestLimitExceeded');
  });

  it(`"An inline Map runs at most 40 iterations at once, and each waiting poll holds one": RunPolls is inline with no lower MaxConcurrency, and a show has at most MAX_POLLS (${MAX_POLLS})`, () => {
    const map = states.RunPolls!;
    expect(map.Type).toBe('Map');
    expect((map.ItemProcessor as { ProcessorConfig: { Mode: string } }).ProcessorConfig.Mode).toBe('INLINE');
    const maxConcurrency = (map.MaxConcurrency as number | undefined) ?? 0; // 0: as many as allowed
    expect(maxConcurrency === 0 || maxConcurrency >= MAX_POLLS).toBe(true);
    expect(MAX_POLLS).toBeLessThanOrEqual(40);
  });

  it('"A channel outside the stack\'s grant fails at Plan": Plan gets the stack\'s channel (${ChannelArn}) to check channelArn against', () => {
    const payload = (states.Plan!.Parameters as { Payload: Record<string, unknown> }).Payload;
    expect(payload.stackChannelArn).toBe('${ChannelArn}');
  });

  it('"One running show per channel": Plan claims the channel for this execution and a busy channel fails the run as ChannelBusy with the Lambda\'s message; a run that ends gives it back', () => {
    const payload = (states.Plan!.Parameters as { Payload: Record<string, unknown> }).Payload;
    expect(payload['executionArn.$']).toBe('$$.Execution.Id');
    expect(states.Plan!.Catch).toContainEqual({
      ErrorEquals: ['ChannelBusy'],
      ResultPath: '$.error',
      Next: 'ReadChannelBusy',
    });
    expect(states.ReadChannelBusy).toMatchObject({ Type: 'Pass', Next: 'ChannelBusy' });
    expect(states.ChannelBusy).toEqual({
      Type: 'Fail',
      Error: 'ChannelBusy',
      CausePath: '$.lambdaError.errorMessage',
    });
    // Success: RunPolls → ReleaseChannel → ShowDone, and a failed release does not fail the show.
    expect(states.RunPolls!.Next).toBe('ReleaseChannel');
    const release = states.ReleaseChannel as {
      Parameters: { Payload: Record<string, unknown> };
      Next: string;
      Catch: { ErrorEquals: string[]; Next: string }[];
    };
    expect(release.Parameters.Payload).toEqual({
      action: 'release',
      'runId.$': '$.plan.runId',
      'channelArn.$': '$.channelArn',
    });
    expect([release.Next, ...release.Catch.map((c) => c.Next)]).toEqual(['ShowDone', 'ShowDone']);
    expect(release.Catch[0]!.ErrorEquals).toEqual(['States.ALL']);
  });

  it('"IVS AccessDenied is caught with a clear cause": RunPolls catches Ivs.AccessDeniedException and fails as ChannelAccessDenied, naming the channel', () => {
    expect(states.RunPolls!.Catch).toContainEqual({
      ErrorEquals: ['Ivs.AccessDeniedException'],
      ResultPath: '$.error',
      Next: 'DescribeAccessDenied',
    });
    expect(states.DescribeAccessDenied).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.failure',
      Next: 'EndRunPolls',
      Parameters: { error: 'ChannelAccessDenied' },
    });
    expect(JSON.stringify(states.DescribeAccessDenied!.Parameters)).toContain('$.channelArn');
  });

  it('"A failed or stopped run closes its open polls": any failure of RunPolls closes the run\'s polls, then the run fails with the same error', () => {
    const catches = states.RunPolls!.Catch as { ErrorEquals: string[]; Next: string }[];
    expect(catches.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.error',
      Next: 'KeepFailure',
    });
    expect(states.KeepFailure).toMatchObject({ Type: 'Pass', ResultPath: '$.failure', Next: 'EndRunPolls' });
    const end = states.EndRunPolls as {
      Parameters: { Payload: Record<string, unknown> };
      Next: string;
      Catch: { Next: string }[];
    };
    // It also sends the results of the question it closes to the run's channel, and gives the channel back.
    expect(end.Parameters.Payload).toEqual({
      action: 'endRun',
      'runId.$': '$.plan.runId',
      'pollIds.$': '$.plan.polls[*].pollId',
      'channelArn.$': '$.channelArn',
      reason: 'failure',
    });
    // Closing is best-effort: the run fails with its own error either way.
    expect([end.Next, ...end.Catch.map((c) => c.Next)]).toEqual(['ShowFailed', 'ShowFailed']);
    expect(states.ShowFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.error',
      CausePath: '$.failure.cause',
    });
  });
});
