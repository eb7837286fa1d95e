import { describe, expect, it } from '@jest/globals';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { readTimeline } from '../../ops/timeline.ts';
import { formatOffset, parseAt } from '../../core/timeline.ts';

describe('`at`: seconds, m:ss / h:mm:ss from show start, or "manual"', () => {
  it.each([
    [90, 90],
    ['90', 90],
    ['1.5', 1.5],
    ['0:30', 30],
    ['1:30', 90],
    ['1:02:03', 3723],
    ['12:00', 720],
    [' 2:05 ', 125],
  ])('%j is %d s', (input, seconds) => {
    expect(parseAt(input)).toEqual({ kind: 'offset', seconds });
  });

  it('"manual" waits for the producer', () => {
    expect(parseAt('manual')).toEqual({ kind: 'manual' });
  });

  it.each([-1, Number.NaN, 'later', '1:5', '1:60', '1:60:00', '::', '1:2:3:4', 'Manual'])(
    'rejects %j',
    (input) => {
      expect(typeof parseAt(input as never)).toBe('string');
    },
  );

  it('formats offsets back as producers write them', () => {
    expect(formatOffset(5)).toBe('0:05');
    expect(formatOffset(90)).toBe('1:30');
    expect(formatOffset(3723)).toBe('1:02:03');
  });
});

describe('run timeline (ops/timeline.ts) from the execution history', () => {
  /** A history in which AskCue is throttled `retries` times before IVS takes the cue. */
  function throttledHistory(retries: number): HistoryEvent[] {
    const poll = {
      id: 'q1',
      runId: 'run',
      pollId: 'run:q1',
      manual: false,
      offsetSeconds: 0,
      askAt: '2030-01-01T00:00:00.000Z',
      question: 'Q?',
      answers: ['A', 'B'],
      duration: 5,
      latencyGraceSeconds: 0,
    };
    const events: HistoryEvent[] = [];
    const add = (event: Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp'>) => {
      const id = events.length + 1;
      events.push({
        ...event,
        id,
        previousEventId: id - 1,
        timestamp: new Date(Date.UTC(2030, 0, 1, 0, 0, id)),
      } as HistoryEvent);
    };
    add({ type: 'ExecutionStarted' });
    add({
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'AskCue', input: JSON.stringify({ poll, channelArn: 'arn' }) },
    });
    const scheduled = {
      type: 'TaskScheduled',
      taskScheduledEventDetails: {
        resource: 'putMetadata',
        resourceType: 'aws-sdk:ivs',
        region: 'us-east-1',
        parameters: JSON.stringify({ ChannelArn: 'arn', Metadata: '{"v":1}' }),
      },
    } as const;
    for (let i = 0; i < retries; i++) {
      add(scheduled);
      add({ type: 'TaskStarted' });
      add({
        type: 'TaskFailed',
        taskFailedEventDetails: {
          resource: 'putMetadata',
          resourceType: 'aws-sdk:ivs',
          error: 'Ivs.ThrottlingException',
        },
      });
    }
    add(scheduled);
    add({ type: 'TaskStarted' });
    add({
      type: 'TaskSucceeded',
      taskSucceededEventDetails: { resource: 'putMetadata', resourceType: 'aws-sdk:ivs' },
    });
    return events;
  }

  it.each([1, 7, 25, 100])(
    '"Retries of any count are followed (bounded only by the history)": %d throttled retries all count for their poll',
    (retries) => {
      const timeline = readTimeline(throttledHistory(retries));
      expect(timeline.polls.map((p) => [p.id, p.throttled])).toEqual([['q1', retries]]);
      expect(timeline.cues).toEqual([expect.objectContaining({ metadata: '{"v":1}' })]);
    },
  );

  it('stops at a previousEventId cycle instead of looping', () => {
    const events = throttledHistory(2);
    events[1] = { ...events[1]!, previousEventId: events.length };
    delete (events[1] as { stateEnteredEventDetails?: unknown }).stateEnteredEventDetails;
    expect(() => readTimeline(events)).not.toThrow();
  });
});
