// The show definition: one zod schema is the source of the TypeScript types, of runtime
// validation (errors name their path: `polls[1].answers: expected 2–6 answers, got 1`) and of
// the editor's JSON Schema (shows/show.schema.json, written by `npm run schema`).
import { z } from 'zod';
import { encodeCue, pollCue, utf8Bytes, CueTooLargeError, MAX_CUE_BYTES } from './cues.ts';
import { formatPath } from './errors.ts';
import { LOCAL_ID, makePollId } from './ids.ts';
import { formatOffset, parseAt, type AskAt } from './timeline.ts';

export const MIN_ANSWERS = 2;
export const MAX_ANSWERS = 6;
export const DEFAULT_DURATION_SECONDS = 30;
export const DEFAULT_LATENCY_GRACE_SECONDS = 10;
/** The longest run id (Step Functions execution name), used to size-check cues for any run. */
const LONGEST_RUN_ID = 'x'.repeat(80);

const lengthOf = (input: unknown): string =>
  Array.isArray(input) || typeof input === 'string' ? String(input.length) : 'none';

const localId = (what: string) =>
  z.string({ error: `expected a ${what} id (string)` }).regex(LOCAL_ID, {
    error: `expected 1–40 lowercase letters, digits, '-' or '_', starting with a letter or digit`,
  });

const text = (what: string, max: number) =>
  z
    .string({ error: `expected ${what} (string)` })
    .trim()
    .min(1, { error: `${what} must not be empty` })
    .max(max, { error: (iss) => `${what} is longer than ${max} characters (${lengthOf(iss.input)})` });

export const PollSchema = z
  .strictObject(
    {
      id: localId('poll'),
      at: z
        .union([z.number(), z.string()], {
          error: 'expected seconds, "m:ss", "h:mm:ss" or "manual"',
        })
        .describe('When the poll is asked: seconds from show start ("90", "1:30", "1:02:03") or "manual"'),
      question: text('a question', 300),
      answers: z
        .array(text('an answer', 80), { error: 'expected an array of answers' })
        .min(MIN_ANSWERS, {
          error: (iss) => `expected ${MIN_ANSWERS}–${MAX_ANSWERS} answers, got ${lengthOf(iss.input)}`,
        })
        .max(MAX_ANSWERS, {
          error: (iss) => `expected ${MIN_ANSWERS}–${MAX_ANSWERS} answers, got ${lengthOf(iss.input)}`,
        }),
      correct: z
        .number({ error: 'expected the index of the correct answer' })
        .int({ error: 'expected a whole number' })
        .min(0, { error: 'expected an index ≥ 0' })
        .optional()
        .describe(
          'Index of the correct answer: makes it a quiz question. Never sent to viewers before the reveal.',
        ),
      duration: z
        .number({ error: 'expected seconds (number)' })
        .int({ error: 'expected whole seconds' })
        .min(5, { error: 'expected at least 5 seconds' })
        .max(1800, { error: 'expected at most 1800 seconds' })
        .default(DEFAULT_DURATION_SECONDS)
        .describe('Seconds viewers have to answer, in video time'),
    },
    { error: 'expected a poll object' },
  )
  .describe('One question');

export const ShowSchema = z
  .strictObject(
    {
      $schema: z.string().optional(),
      id: localId('show'),
      title: text('a title', 120),
      latencyGraceSeconds: z
        .number({ error: 'expected seconds (number)' })
        .int({ error: 'expected whole seconds' })
        .min(0, { error: 'expected ≥ 0' })
        .max(60, { error: 'expected at most 60 seconds' })
        .default(DEFAULT_LATENCY_GRACE_SECONDS)
        .describe('Extra seconds a poll stays open after its duration, for viewers further behind live'),
      polls: z
        .array(PollSchema, { error: 'expected an array of polls' })
        .min(1, { error: 'expected at least one poll' })
        .max(100, { error: (iss) => `expected at most 100 polls, got ${lengthOf(iss.input)}` }),
    },
    { error: 'expected a show object' },
  )
  .describe('A showrunner show: timed poll and quiz questions');

/** The execution input: the show file itself, optionally with the absolute start time and the channel. */
export const ExecutionInputSchema = ShowSchema.extend({
  startAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO 8601 date-time, e.g. 2026-11-25T18:00:00Z' })
    .optional(),
  channelArn: z
    .string({ error: 'expected an IVS channel ARN (string)' })
    .regex(/^arn:aws:ivs:[a-z0-9-]+:\d{12}:channel\/[A-Za-z0-9-]+$/, {
      error: 'expected an IVS channel ARN, e.g. arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234',
    })
    .optional(),
});

export type ShowInput = z.input<typeof ShowSchema>;
export type Show = z.output<typeof ShowSchema>;
export type Poll = z.output<typeof PollSchema>;
export type ExecutionInput = z.output<typeof ExecutionInputSchema>;

export interface ShowIssue {
  path: string;
  message: string;
}

export type ShowValidation<T> = { ok: true; value: T } | { ok: false; issues: ShowIssue[] };

export function formatIssues(issues: readonly ShowIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

function fromZod(error: z.ZodError): ShowIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      return {
        path: formatPath([...issue.path, ...(keys.length === 1 ? [keys[0] as string] : [])]),
        message: keys.length === 1 ? 'unknown field' : `unknown fields: ${keys.join(', ')}`,
      };
    }
    return { path: formatPath(issue.path), message: issue.message };
  });
}

/** Rules the schema alone cannot state: correct index in range, unique ids, no overlap, cue size. */
function checkShowRules(show: Show): ShowIssue[] {
  const issues: ShowIssue[] = [];
  const seen = new Map<string, number>();
  let previous: { id: string; closesAt: number } | undefined;
  show.polls.forEach((poll, i) => {
    const at = `polls[${i}]`;
    const first = seen.get(poll.id);
    if (first !== undefined)
      issues.push({ path: `${at}.id`, message: `duplicate id "${poll.id}" (also polls[${first}])` });
    else seen.set(poll.id, i);

    if (poll.correct !== undefined && poll.correct >= poll.answers.length) {
      issues.push({
        path: `${at}.correct`,
        message: `expected an index from 0 to ${poll.answers.length - 1}, got ${poll.correct}`,
      });
    }

    const when = parseAt(poll.at);
    if (typeof when === 'string') {
      issues.push({ path: `${at}.at`, message: when });
    } else if (when.kind === 'offset') {
      if (previous && when.seconds < previous.closesAt) {
        issues.push({
          path: `${at}.at`,
          message:
            `overlaps "${previous.id}": asked at ${formatOffset(when.seconds)}, before "${previous.id}" closes at ` +
            `${formatOffset(previous.closesAt)} (its at + duration + latencyGraceSeconds); polls run one at a time, in file order`,
        });
      }
      previous = { id: poll.id, closesAt: when.seconds + poll.duration + show.latencyGraceSeconds };
    } else {
      // A manual poll is asked whenever the producer cues it; timed polls after it keep their own clock.
      previous = undefined;
    }

    try {
      encodeCue(pollCue(makePollId(LONGEST_RUN_ID, poll.id), poll));
    } catch (error) {
      if (!(error instanceof CueTooLargeError)) throw error;
      issues.push({
        path: at,
        message: `its poll cue would be ${error.bytes} bytes, over the ${MAX_CUE_BYTES}-byte IVS limit: shorten the question or answers`,
      });
    }
  });
  return issues;
}

function validateWith<S extends typeof ShowSchema | typeof ExecutionInputSchema>(
  schema: S,
  input: unknown,
): ShowValidation<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: fromZod(parsed.error) };
  const issues = checkShowRules(parsed.data);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: parsed.data as z.output<S> };
}

export function validateShow(input: unknown): ShowValidation<Show> {
  return validateWith(ShowSchema, input);
}

export function validateExecutionInput(input: unknown): ShowValidation<ExecutionInput> {
  return validateWith(ExecutionInputSchema, input);
}

/** Parses show file text; JSON syntax errors are reported like schema errors. */
export function parseShowText(text: string): ShowValidation<Show> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: '(root)', message: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  return validateShow(value);
}

/** The poll cue size for the longest possible run id: what `showrunner validate` reports. */
export function pollCueBytes(poll: Poll): number {
  return utf8Bytes(JSON.stringify(pollCue(makePollId(LONGEST_RUN_ID, poll.id), poll)));
}

export function askAt(poll: Poll): AskAt {
  const at = parseAt(poll.at);
  if (typeof at === 'string') throw new Error(`poll ${poll.id}: ${at}`); // validated shows never get here
  return at;
}

/** The editor JSON Schema for show files. */
export function showJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ShowSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://github.com/showrunner/showrunner/shows/show.schema.json',
    title: 'showrunner show',
  };
}
