// contract/: the names the parts agree on match the one state machine definition.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHANNEL_BUSY_ERROR,
  CUE_RESOURCE,
  CUE_THROTTLED_ERROR,
  MANUAL_CUE_TIMEOUT_SECONDS,
  ITERATION_FIELDS,
  RUN_ID,
  SHOW_VALIDATION_ERROR,
  STATES,
  SUBSTITUTION_NAMES,
  TASK_OUTPUTS,
  substitutionNames,
} from '../../contract/state-machine.ts';
import { csv } from '../../contract/producer.ts';
import { CUE_ITEM_KEY } from '../../contract/table.ts';
import { makeRunId } from '../../core/ids.ts';
import { ROOT } from '../support/stack.ts';

type State = Record<string, unknown>;
const text = readFileSync(join(ROOT, 'statemachine/show.asl.json'), 'utf8');

function allStates(machine: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    const inner = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, State> } | undefined;
    return [[name, state] as [string, State], ...(inner ? allStates(inner) : [])];
  });
}
const states = Object.fromEntries(allStates(JSON.parse(text)));
/** A selector's keys without the JSONPath `.$` suffix. */
const keysOf = (selector: unknown) => Object.keys(selector as object).map((k) => k.replace(/\.\$$/, ''));

describe('contract/state-machine.ts against statemachine/show.asl.json', () => {
  it('names only states the definition has', () => {
    for (const name of Object.values(STATES)) expect(Object.keys(states)).toContain(name);
  });

  it('lists exactly the DefinitionSubstitutions the definition uses', () => {
    expect(substitutionNames(text).sort()).toEqual([...SUBSTITUTION_NAMES].sort());
  });

  it('each task keeps the fields of its result the contract types name, where they say', () => {
    for (const [state, { resultPath, fields }] of Object.entries(TASK_OUTPUTS)) {
      expect({ state, resultPath: states[state]!.ResultPath }).toEqual({ state, resultPath });
      expect({ state, fields: keysOf(states[state]!.ResultSelector).sort() }).toEqual({
        state,
        fields: [...fields].sort(),
      });
    }
    expect(keysOf(states[STATES.RunPolls]!.ItemSelector).sort()).toEqual([...ITERATION_FIELDS].sort());
  });

  it('Plan catches the validation error the Lambda throws, and the execution fails with it', () => {
    const catches = states[STATES.Plan]!.Catch as { ErrorEquals: string[] }[];
    expect(catches.flatMap((c) => c.ErrorEquals)).toContain(SHOW_VALIDATION_ERROR);
    expect(
      Object.values(states).filter((s) => s.Type === 'Fail' && s.Error === SHOW_VALIDATION_ERROR),
    ).toHaveLength(1);
  });

  it('the cue states call PutMetadata and retry its throttling error', () => {
    for (const name of [STATES.AskCue, STATES.ResultsCue, STATES.LeaderboardCue]) {
      const state = states[name]!;
      expect(state.Resource).toBe(`arn:aws:states:::aws-sdk:ivs:${CUE_RESOURCE}`);
      const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried).toContain(CUE_THROTTLED_ERROR);
    }
  });

  it('Plan catches ChannelBusy (another run holds the channel), and the execution fails with it', () => {
    const catches = states[STATES.Plan]!.Catch as { ErrorEquals: string[] }[];
    expect(catches.flatMap((c) => c.ErrorEquals)).toContain(CHANNEL_BUSY_ERROR);
    expect(
      Object.values(states).filter((s) => s.Type === 'Fail' && s.Error === CHANNEL_BUSY_ERROR),
    ).toHaveLength(1);
  });

  it('a claim lease counts on WaitForCue waiting MANUAL_CUE_TIMEOUT_SECONDS at most', () => {
    expect(states[STATES.WaitForCue]!.TimeoutSeconds).toBe(MANUAL_CUE_TIMEOUT_SECONDS);
  });

  it('UseStackChannel names the stack channel as the CLI reads it (Parameters.channelArn)', () => {
    expect(states[STATES.UseStackChannel]!.Parameters).toMatchObject({ channelArn: '${ChannelArn}' });
  });

  it('WaitForCue writes the cue item under the table contract key', () => {
    const item = (states[STATES.WaitForCue]!.Parameters as { Item: { requestor_id: { S: string } } }).Item;
    expect(item.requestor_id).toEqual({ S: CUE_ITEM_KEY });
  });

  it('RUN_ID is the execution name rule: the CLI names runs within it', () => {
    expect(RUN_ID.test(makeRunId('cat-facts', new Date('2026-11-25T06:15:00Z')))).toBe(true);
    expect(RUN_ID.test(makeRunId('x'.repeat(40), new Date()))).toBe(true);
    expect(RUN_ID.test('a'.repeat(81))).toBe(false);
    expect(RUN_ID.test('has space')).toBe(false);
    expect(RUN_ID.test('')).toBe(false);
  });
});

describe('contract/producer.ts results export', () => {
  it('"RFC 4180": fields with commas, quotes or line breaks are quoted, quotes doubled, CRLF line ends', () => {
    expect(csv([['a,b', 'say "hi"', 'two\nlines', 3]])).toBe('"a,b","say ""hi""","two\nlines",3\r\n');
  });

  it('"Ensure that no cells begin with = + - @ tab or carriage return" (OWASP CSV injection): text cells get a leading quote', () => {
    const cells = ['=HYPERLINK("http://x")', '+1', '-1+2', '@SUM(A1)', '\tx', '\rx', '\0x'];
    expect(csv([cells]).split(',')[0]).toBe(`"'=HYPERLINK(""http://x"")"`);
    for (const cell of cells) {
      const written = csv([[cell]]).slice(0, -2);
      expect(written.startsWith(`"'`)).toBe(true);
    }
    // Numbers stay numbers; harmless text is left as it is.
    expect(csv([[-1, 'Cats', 'e=mc²']])).toBe('-1,Cats,e=mc²\r\n');
  });
});
