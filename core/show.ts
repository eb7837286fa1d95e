// The show definition: one zod schema is the source of the TypeScript types, of runtime
// validation (errors name their path: `polls[1].answers: expected 2–6 answers, got 1`) and of
// the editor's JSON Schema (shows/show.schema.json, written by `npm run schema`).
import { z } from 'zod';
import { MAX_CUE_BYTES } from '../contract/cues.ts';
import { encodeCue, pollCue, utf8Bytes, CueTooLargeError, type PollCueFields } from './cues.ts';
import { LOCAL_ID, makePollId } from './ids.ts';
import { DEFAULT_POINTS } from './scoring.ts';
import {
  DEFAULT_LATENCY_GRACE_SECONDS,
  MAX_AT_SECONDS,
  formatOffset,
  parseAt,
  tooLateMessage,
  type AskAt,
} from './timeline.ts';

export { DEFAULT_LATENCY_GRACE_SECONDS };

export const MIN_ANSWERS = 2;
export const MAX_ANSWERS = 6;
/** The longest a poll may take answers, and the most grace a show may add (docs/show-limits.md counts the history events of a poll open that long). */
export const MAX_DURATION_SECONDS = 1800;
export const MAX_LATENCY_GRACE_SECONDS = 60;
export const DEFAULT_DURATION_SECONDS = 30;
/** The most a quiz question may be worth (`points`). */
export const MAX_POINTS = 100_000;
/**
 * The most polls a show may have. The state machine runs every poll as one iteration of an inline
 * Map, which runs at most 40 iterations at once, and each waiting poll holds one: a 41st poll would
 * start only when an earlier one ends, possibly after its own time. Longer shows: split them into runs.
 */
export const MAX_POLLS = 40;
/** Step Functions keeps at most 32,768 characters of a failure's Cause: a validation error reports this many issues. */
export const MAX_REPORTED_ISSUES = 20;
/** Each reported issue is cut to this many characters once JSON-escaped (it may echo the producer's text). */
const MAX_REPORTED_ISSUE_CHARS = 400;
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
        .union(
          [z.number().max(MAX_AT_SECONDS, { error: (iss) => tooLateMessage(String(iss.input)) }), z.string()],
          { error: 'expected seconds, "m:ss", "h:mm:ss" or "manual"' },
        )
        .describe(
          `When the poll is asked: seconds from show start ("90", "1:30", "1:02:03", at most ${MAX_AT_SECONDS}) or "manual"`,
        ),
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
        .max(MAX_DURATION_SECONDS, { error: `expected at most ${MAX_DURATION_SECONDS} seconds` })
        .default(DEFAULT_DURATION_SECONDS)
        .describe('Seconds viewers have to answer, in video time'),
      points: z
        .number({ error: 'expected points (number)' })
        .int({ error: 'expected whole points' })
        .min(0, { error: 'expected ≥ 0' })
        .max(MAX_POINTS, { error: `expected at most ${MAX_POINTS}` })
        .optional()
        .describe(
          `What a quiz question (one with "correct") is worth; default ${DEFAULT_POINTS}. Only a quiz question scores points.`,
        ),
    },
    { error: 'expected a poll object' },
  )
  .describe('One question');

export const ScoringSchema = z.strictObject(
  {
    speed: z
      .boolean({ error: 'expected true or false' })
      .describe('A right answer earns half its points, plus up to half more the faster it came'),
  },
  { error: 'expected an object like {"speed": true}' },
);

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
        .max(MAX_LATENCY_GRACE_SECONDS, { error: `expected at most ${MAX_LATENCY_GRACE_SECONDS} seconds` })
        .default(DEFAULT_LATENCY_GRACE_SECONDS)
        .describe('Extra seconds a poll stays open after its duration, for viewers further behind live'),
      scoring: ScoringSchema.optional().describe(
        'How quiz questions score: {"speed": true} adds a speed bonus (half the points fall with the time taken to answer)',
      ),
      polls: z
        .array(PollSchema, { error: 'expected an array of polls' })
        .min(1, { error: 'expected at least one poll' })
        .max(MAX_POLLS, {
          error: (iss) =>
            `expected at most ${MAX_POLLS} polls, got ${lengthOf(iss.input)} ` +
            `(Step Functions runs at most ${MAX_POLLS} at once): split the show into several runs`,
        })
        .describe(
          `The questions, in the order they are asked; at most ${MAX_POLLS} (Step Functions runs at most ${MAX_POLLS} at once)`,
        ),
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

export type Show = z.output<typeof ShowSchema>;
export type Poll = z.output<typeof PollSchema>;
export type ExecutionInput = z.output<typeof ExecutionInputSchema>;

/** What a question is worth: its `points` (DEFAULT_POINTS when it names none) for a quiz question, undefined for a poll. */
export function pointsOf(poll: Pick<Poll, 'correct' | 'points'>): number | undefined {
  return poll.correct === undefined ? undefined : (poll.points ?? DEFAULT_POINTS);
}

/** Whether the show's speed bonus is on. */
export function speedBonusOf(show: Pick<Show, 'scoring'>): boolean {
  return show.scoring?.speed === true;
}

/** The poll cue a question of this show sends (without its run's poll id). */
export function pollCueFields(
  show: { title?: string | undefined; scoring?: Show['scoring'] | undefined },
  poll: Pick<Poll, 'question' | 'answers' | 'duration' | 'correct' | 'points'>,
): PollCueFields {
  const points = pointsOf(poll);
  const fields: PollCueFields = { question: poll.question, answers: poll.answers, duration: poll.duration };
  if (show.title !== undefined) fields.title = show.title;
  if (points !== undefined) {
    fields.points = points;
    if (show.scoring?.speed === true) fields.speed = true;
  }
  return fields;
}

/** Formats a path like zod's (['polls', 2, 'answers']) the way producers read it: polls[2].answers. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

export interface ShowIssue {
  path: string;
  message: string;
}

export type ShowValidation<T> = { ok: true; value: T } | { ok: false; issues: ShowIssue[] };

export function formatIssues(issues: readonly ShowIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/**
 * The issues as a failure message that fits a Step Functions Cause (≤ 32,768 characters, which must
 * also hold the Lambda's error JSON and its stack trace, which repeats the message): the first
 * MAX_REPORTED_ISSUES issues, each cut to MAX_REPORTED_ISSUE_CHARS characters once JSON-escaped,
 * then "… and N more issues".
 */
export function summarizeIssues(issues: readonly ShowIssue[]): string {
  const lines = issues.slice(0, MAX_REPORTED_ISSUES).map((i) => cutEscaped(`${i.path}: ${i.message}`));
  const more = issues.length - lines.length;
  if (more > 0) lines.push(`… and ${more} more issue${more === 1 ? '' : 's'}`);
  return lines.join('\n');
}

/** Cuts text so that its JSON-escaped form (quotes, backslashes, control characters) stays within the limit. */
function cutEscaped(text: string, limit = MAX_REPORTED_ISSUE_CHARS): string {
  let used = 0;
  let end = 0;
  for (const char of text) {
    const cost = JSON.stringify(char).length - 2;
    if (used + cost > limit - 1) return `${text.slice(0, end)}…`;
    used += cost;
    end += char.length;
  }
  return text;
}

/** An issue before its path is formatted: the path as keys, so issues can be put in file order. */
interface RawIssue {
  path: readonly PropertyKey[];
  message: string;
}

function fromZod(error: z.ZodError): RawIssue[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      return {
        path: [...issue.path, ...(keys.length === 1 ? [keys[0] as string] : [])],
        message: keys.length === 1 ? 'unknown field' : `unknown fields: ${keys.join(', ')}`,
      };
    }
    return { path: issue.path, message: issue.message };
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the cross-field rules look at. Each field is there only when it is valid on its own, so a
 * show with schema errors still gets every rule that can be judged (a duplicate id beside an answer
 * list that is too long): a producer sees all the problems in one pass, not one layer at a time.
 */
interface RuleView {
  /** Undefined when it is itself invalid: overlaps cannot be judged then. */
  latencyGraceSeconds: number | undefined;
  /** The title and scoring the poll cues carry (undefined when invalid: the cue is measured without them). */
  title: string | undefined;
  scoring: Show['scoring'];
  polls: Array<{
    fields: Partial<Poll>;
    /** How many answers the file lists, even when the list itself is invalid (for the `correct` range). */
    answerCount: number | undefined;
    /** The whole poll, when it is valid (the cue-size check needs all of it). */
    poll: Poll | undefined;
    /** Whether the file gives it a `correct` (valid or not): only then may it have `points`. */
    hasCorrect: boolean;
  }>;
}

function viewOfShow(show: Show): RuleView {
  return {
    latencyGraceSeconds: show.latencyGraceSeconds,
    title: show.title,
    scoring: show.scoring,
    polls: show.polls.map((poll) => ({
      fields: poll,
      answerCount: poll.answers.length,
      poll,
      hasCorrect: poll.correct !== undefined,
    })),
  };
}

/** The valid parts of an input the schema refused; null when it has no list of polls to judge. */
function viewOfInput(input: unknown): RuleView | null {
  if (!isRecord(input) || !Array.isArray(input['polls'])) return null;
  const grace = ShowSchema.shape.latencyGraceSeconds.safeParse(input['latencyGraceSeconds']);
  const title = ShowSchema.shape.title.safeParse(input['title']);
  const scoring = ShowSchema.shape.scoring.safeParse(input['scoring']);
  return {
    latencyGraceSeconds: grace.success ? grace.data : undefined,
    title: title.success ? title.data : undefined,
    scoring: scoring.success ? scoring.data : undefined,
    polls: input['polls'].map((raw: unknown) => {
      const whole = PollSchema.safeParse(raw);
      const hasCorrect = isRecord(raw) && raw['correct'] !== undefined;
      if (whole.success)
        return { fields: whole.data, answerCount: whole.data.answers.length, poll: whole.data, hasCorrect };
      const fields: Record<string, unknown> = {};
      if (isRecord(raw)) {
        for (const [key, schema] of Object.entries(PollSchema.shape)) {
          const field = (schema as z.ZodType).safeParse(raw[key]);
          if (field.success) fields[key] = field.data;
        }
      }
      const answers = isRecord(raw) ? raw['answers'] : undefined;
      return {
        fields: fields as Partial<Poll>,
        answerCount: Array.isArray(answers) ? answers.length : undefined,
        poll: undefined,
        hasCorrect,
      };
    }),
  };
}

/** Rules the schema alone cannot state: correct index in range, unique ids, no overlap, cue size. */
function checkShowRules(show: RuleView): RawIssue[] {
  const issues: RawIssue[] = [];
  const seen = new Map<string, number>();
  let previous: { id: string; closesAt: number } | undefined;
  show.polls.forEach(({ fields, answerCount, poll, hasCorrect }, i) => {
    const at = (...rest: PropertyKey[]) => ['polls', i, ...rest];
    if (fields.id !== undefined) {
      const first = seen.get(fields.id);
      if (first !== undefined)
        issues.push({ path: at('id'), message: `duplicate id "${fields.id}" (also polls[${first}])` });
      else seen.set(fields.id, i);
    }

    const firstAnswer = new Map<string, number>();
    fields.answers?.forEach((answer, j) => {
      const same = firstAnswer.get(answer);
      if (same === undefined) firstAnswer.set(answer, j);
      else
        issues.push({
          path: at('answers', j),
          message: `duplicate of answers[${same}] ${JSON.stringify(answer)}`,
        });
    });

    if (fields.points !== undefined && !hasCorrect) {
      issues.push({
        path: at('points'),
        message: 'only a quiz question (one with "correct") scores points',
      });
    }

    if (fields.correct !== undefined && answerCount !== undefined && fields.correct >= answerCount) {
      issues.push({
        path: at('correct'),
        message: `expected an index from 0 to ${answerCount - 1}, got ${fields.correct}`,
      });
    }

    const when = fields.at === undefined ? undefined : parseAt(fields.at);
    const id = fields.id ?? `polls[${i}]`;
    if (typeof when === 'string') {
      issues.push({ path: at('at'), message: when });
      previous = undefined;
    } else if (when?.kind === 'offset') {
      if (previous && when.seconds < previous.closesAt) {
        issues.push({
          path: at('at'),
          message:
            `overlaps "${previous.id}": asked at ${formatOffset(when.seconds)}, before "${previous.id}" closes at ` +
            `${formatOffset(previous.closesAt)} (its at + duration + latencyGraceSeconds); polls run one at a time, in file order`,
        });
      }
      previous =
        fields.duration === undefined || show.latencyGraceSeconds === undefined
          ? undefined
          : { id, closesAt: when.seconds + fields.duration + show.latencyGraceSeconds };
    } else {
      // A manual poll is asked whenever the producer cues it; timed polls after it keep their own
      // clock. A poll whose `at` is itself wrong cannot be judged either.
      previous = undefined;
    }

    if (poll === undefined) return;
    try {
      encodeCue(pollCue(makePollId(LONGEST_RUN_ID, poll.id), pollCueFields(show, poll)));
    } catch (error) {
      if (!(error instanceof CueTooLargeError)) throw error;
      issues.push({
        path: at(),
        message: `its poll cue would be ${error.bytes} bytes, over the ${MAX_CUE_BYTES}-byte IVS limit: shorten the question or answers`,
      });
    }
  });
  return issues;
}

/**
 * Where a path points in the file as written: per step, the array index or the key's position among
 * the object's keys (a missing key after the present ones). Compared in order, this sorts issues the
 * way a producer reads the file.
 */
function filePosition(input: unknown, path: readonly PropertyKey[]): number[] {
  const position: number[] = [];
  let node = input;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === 'number') {
      position.push(key);
      node = node[key];
    } else if (isRecord(node)) {
      const keys = Object.keys(node);
      const index = keys.indexOf(String(key));
      position.push(index < 0 ? keys.length : index);
      node = node[String(key)];
    } else {
      position.push(0);
      node = undefined;
    }
  }
  return position;
}

function inFileOrder(input: unknown, issues: readonly RawIssue[]): ShowIssue[] {
  const positioned = issues.map((issue) => ({ issue, position: filePosition(input, issue.path) }));
  positioned.sort((a, b) => {
    for (let i = 0; i < Math.min(a.position.length, b.position.length); i++) {
      if (a.position[i] !== b.position[i]) return a.position[i]! - b.position[i]!;
    }
    return a.position.length - b.position.length;
  });
  return positioned.map(({ issue }) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Every issue the input has, schema and cross-field rules together, in file order. */
function validateWith<S extends typeof ShowSchema | typeof ExecutionInputSchema>(
  schema: S,
  input: unknown,
  rules: (value: z.output<S>) => RawIssue[] = () => [],
): ShowValidation<z.output<S>> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const view = viewOfInput(input);
    return {
      ok: false,
      issues: inFileOrder(input, [...fromZod(parsed.error), ...(view ? checkShowRules(view) : [])]),
    };
  }
  const value = parsed.data as z.output<S>;
  const issues = [...checkShowRules(viewOfShow(value)), ...rules(value)];
  return issues.length > 0 ? { ok: false, issues: inFileOrder(input, issues) } : { ok: true, value };
}

export function validateShow(input: unknown): ShowValidation<Show> {
  return validateWith(ShowSchema, input);
}

/**
 * A show that has passed every check (validateShow's): the file as written, which a run's execution
 * input is made of, and its validated value. Starting a run, the producer API and the demo take it
 * as it is, so the show is parsed and checked once on its way to the state machine. Only
 * ValidShow.check (and readShowText) make one.
 */
export class ValidShow {
  /** The show as written (no defaults filled in): what the execution input holds. */
  readonly written: Readonly<Record<string, unknown>>;
  /** The same show with its defaults applied. */
  readonly show: Show;

  private constructor(written: Readonly<Record<string, unknown>>, show: Show) {
    this.written = written;
    this.show = show;
  }

  /** Checks a show: a ValidShow, or every issue at once, in file order. */
  static check(input: unknown): ShowValidation<ValidShow> {
    const checked = validateShow(input);
    return checked.ok
      ? { ok: true, value: new ValidShow(input as Record<string, unknown>, checked.value) }
      : checked;
  }
}

/** What the run's Plan step knows beyond the input itself. */
export interface RunContext {
  /** The execution's start: `startAt` plus the last question must stay within the year a run may last. */
  now?: Date;
  /**
   * The channels the stack may send cues to (the state machine is granted ivs:PutMetadata on these
   * only). An input `channelArn` outside them would fail at the first question with AccessDenied.
   */
  channelArns?: readonly string[];
}

export function validateExecutionInput(
  input: unknown,
  context: RunContext = {},
): ShowValidation<ExecutionInput> {
  return validateWith(ExecutionInputSchema, input, (value) => checkRunContext(value, context));
}

/** What a run adds to its show in the execution input: when it starts and on which channel. */
export type RunFields = Pick<z.input<typeof ExecutionInputSchema>, 'startAt' | 'channelArn'>;

const RunFieldsSchema = ExecutionInputSchema.pick({ startAt: true, channelArn: true });

/** A run's execution input, checked as its Plan step checks it, and its validated value. */
export interface RunInput {
  /** The show as written with the run's fields: the execution input. */
  input: Record<string, unknown>;
  value: ExecutionInput;
}

/**
 * The execution input of a run of `show` with `fields`, checked as the run's Plan step will check
 * it (validateExecutionInput): every issue at once, in file order. A ValidShow is not checked again,
 * only the run's fields and context are.
 */
export function checkRunInput(
  show: ValidShow | Readonly<Record<string, unknown>>,
  fields: RunFields,
  context: RunContext = {},
): ShowValidation<RunInput> {
  const written = show instanceof ValidShow ? show.written : show;
  const input: Record<string, unknown> = { ...written, ...definedOnly(fields) };
  if (!(show instanceof ValidShow)) {
    const checked = validateExecutionInput(input, context);
    return checked.ok ? { ok: true, value: { input, value: checked.value } } : checked;
  }
  const parsed = RunFieldsSchema.safeParse(definedOnly(fields));
  if (!parsed.success) return { ok: false, issues: inFileOrder(input, fromZod(parsed.error)) };
  const value: ExecutionInput = { ...show.show, ...parsed.data };
  const issues = checkRunContext(value, context);
  return issues.length > 0
    ? { ok: false, issues: inFileOrder(input, issues) }
    : { ok: true, value: { input, value } };
}

const definedOnly = (fields: RunFields): RunFields =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as RunFields;

function checkRunContext(input: ExecutionInput, context: RunContext): RawIssue[] {
  const issues: RawIssue[] = [];
  const allowed = context.channelArns?.filter(Boolean) ?? [];
  if (input.channelArn !== undefined && allowed.length > 0 && !allowed.includes(input.channelArn)) {
    issues.push({
      path: ['channelArn'],
      message:
        `${input.channelArn} is not a channel this stack may send cues to (${allowed.join(', ')}): ` +
        "deploy the stack with it in -c extraChannelArns=…, or leave channelArn out to use the stack's channel",
    });
  }
  if (input.startAt !== undefined && context.now !== undefined) {
    let last: { index: number; seconds: number } | undefined;
    input.polls.forEach((poll, index) => {
      const at = parseAt(poll.at);
      if (typeof at !== 'string' && at.kind === 'offset' && (!last || at.seconds >= last.seconds))
        last = { index, seconds: at.seconds };
    });
    const delay = (Date.parse(input.startAt) - context.now.getTime()) / 1000;
    const latest = delay + (last?.seconds ?? 0);
    if (latest > MAX_AT_SECONDS) {
      issues.push({
        path: ['startAt'],
        message:
          `${input.startAt} is ${formatDays(delay)} days away` +
          (last ? ` and polls[${last.index}] is asked ${formatDays(last.seconds)} days after it` : '') +
          `: a run must ask its last question within ${MAX_AT_SECONDS / 86_400} days of being started ` +
          '(a Step Functions execution lasts at most a year)',
      });
    }
  }
  return issues;
}

const formatDays = (seconds: number) => (seconds / 86_400).toFixed(1);

/** Parses show file text into a ValidShow; JSON syntax errors are reported like schema errors. */
export function readShowText(text: string): ShowValidation<ValidShow> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      issues: [{ path: '(root)', message: `not valid JSON: ${(error as Error).message}` }],
    };
  }
  return ValidShow.check(value);
}

/** Parses show file text (readShowText), for those who need only the validated show. */
export function parseShowText(text: string): ShowValidation<Show> {
  const read = readShowText(text);
  return read.ok ? { ok: true, value: read.value.show } : read;
}

/**
 * The poll cue size for the longest possible run id: what `showrunner validate` reports. With the
 * show, the cue as sent (its title, points and speed flag); without it, the question alone.
 */
export function pollCueBytes(poll: Poll, show?: Pick<Show, 'title' | 'scoring'>): number {
  return utf8Bytes(
    JSON.stringify(pollCue(makePollId(LONGEST_RUN_ID, poll.id), pollCueFields(show ?? {}, poll))),
  );
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
