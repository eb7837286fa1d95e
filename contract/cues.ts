// The payloads carried in the video stream as IVS timed metadata (docs/ARCHITECTURE.md, "Cues through IVS PutMetadata"):
// their shapes, the size limit and the reader. core/cues.ts builds them; the CLI and the site read
// them back with decodeCue.

/** IVS refuses PutMetadata payloads over 1 KB, counted in UTF-8 bytes, not characters. */
export const MAX_CUE_BYTES = 1024;
export const CUE_VERSION = 1;

export interface PollCue {
  v: 1;
  type: 'poll';
  poll_id: string;
  question: string;
  answers: string[];
  /** Seconds of video time viewers have to answer. */
  duration: number;
}

/**
 * The live count of an open poll, sent about once a second while it changes (lambdas/poll-lifecycle.ts
 * `tally`), so viewers draw live bars from the stream and never poll the API for them.
 */
export interface TallyCue {
  v: 1;
  type: 'tally';
  poll_id: string;
  counts: number[];
  total: number;
}

export interface ResultsCue {
  v: 1;
  type: 'results';
  poll_id: string;
  counts: number[];
  total: number;
  /** Present for quiz questions only: revealed here, never in the poll cue. */
  correct?: number;
}

export type Cue = PollCue | TallyCue | ResultsCue;

const isCount = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;

/** Reads a cue from the stream; anything that is not one of ours (or a newer version) gives undefined. */
export function decodeCue(text: string): Cue | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const cue = value as Record<string, unknown>;
  if (cue.v !== CUE_VERSION || typeof cue.poll_id !== 'string') return undefined;
  if (cue.type === 'poll') {
    const ok =
      typeof cue.question === 'string' &&
      Array.isArray(cue.answers) &&
      cue.answers.every((a) => typeof a === 'string') &&
      typeof cue.duration === 'number' &&
      cue.duration > 0;
    return ok ? (cue as unknown as PollCue) : undefined;
  }
  if (cue.type === 'tally' || cue.type === 'results') {
    const ok =
      Array.isArray(cue.counts) &&
      cue.counts.every(isCount) &&
      isCount(cue.total) &&
      (cue.type === 'tally' ? cue.correct === undefined : cue.correct === undefined || isCount(cue.correct));
    return ok ? (cue as unknown as TallyCue | ResultsCue) : undefined;
  }
  return undefined;
}
