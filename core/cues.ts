// Builds the payloads carried in the video stream as IVS timed metadata (their shapes are in
// contract/cues.ts). IVS refuses payloads over 1 KB (counted in UTF-8 bytes, not characters), so
// every builder's output is checked by encodeCue.
import { MAX_CUE_BYTES, type Cue, type PollCue, type ResultsCue, type TallyCue } from '../contract/cues.ts';

export class CueTooLargeError extends Error {
  override readonly name = 'CueTooLargeError';
  readonly bytes: number;
  constructor(bytes: number) {
    super(`cue is ${bytes} bytes, over the ${MAX_CUE_BYTES}-byte IVS PutMetadata limit`);
    this.bytes = bytes;
  }
}

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** Serializes a cue, throwing CueTooLargeError when IVS would refuse it. */
export function encodeCue(cue: Cue): string {
  const text = JSON.stringify(cue);
  const bytes = utf8Bytes(text);
  if (bytes > MAX_CUE_BYTES) throw new CueTooLargeError(bytes);
  return text;
}

/** What a poll cue says of its question, besides the poll id. */
export interface PollCueFields {
  question: string;
  answers: readonly string[];
  duration: number;
  /** The show's title. */
  title?: string | undefined;
  /** Quiz questions only: what it is worth. */
  points?: number | undefined;
  /** Quiz questions of a show with the speed bonus. */
  speed?: boolean | undefined;
}

export function pollCue(pollId: string, poll: PollCueFields): PollCue {
  const cue: PollCue = {
    v: 1,
    type: 'poll',
    poll_id: pollId,
    question: poll.question,
    answers: [...poll.answers],
    duration: poll.duration,
  };
  if (poll.title !== undefined) cue.title = poll.title;
  if (poll.points !== undefined) {
    cue.points = poll.points;
    if (poll.speed === true) cue.speed = true;
  }
  return cue;
}

export function tallyCue(pollId: string, counts: readonly number[]): TallyCue {
  return {
    v: 1,
    type: 'tally',
    poll_id: pollId,
    counts: [...counts],
    total: counts.reduce((a, b) => a + b, 0),
  };
}

export function resultsCue(pollId: string, counts: readonly number[], correct?: number): ResultsCue {
  const cue: ResultsCue = {
    v: 1,
    type: 'results',
    poll_id: pollId,
    counts: [...counts],
    total: counts.reduce((a, b) => a + b, 0),
  };
  if (correct !== undefined) cue.correct = correct;
  return cue;
}
