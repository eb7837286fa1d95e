// A show the producer is about to start, checked in the page by the schema the CLI uses
// (core/show.ts): the same issues at the same paths, and each question's cue size.
import { MAX_CUE_BYTES } from '../../../../contract/cues.ts';
import {
  formatIssues,
  parseShowText,
  pollCueBytes,
  validateExecutionInput,
  type Show,
  type ShowIssue,
} from '../../../../core/show.ts';
import type { StartBody } from '../../../../contract/producer.ts';

export interface Draft {
  /** The show file's text, as loaded or pasted. */
  readonly text: string;
  /** The file it came from, when loaded from one. */
  readonly fileName: string | null;
  /** Start now, or at `startAt`. */
  readonly when: 'now' | 'at';
  /** A datetime-local value (local time, `2030-01-01T18:00`). */
  readonly startAt: string;
  /** An IVS channel ARN, or empty for the stack's channel. */
  readonly channelArn: string;
}

export const emptyDraft: Draft = { text: '', fileName: null, when: 'now', startAt: '', channelArn: '' };

export interface DraftQuestion {
  id: string;
  at: string;
  question: string;
  answers: readonly string[];
  manual: boolean;
  quiz: boolean;
  /** The poll cue's size in UTF-8 bytes, for the longest run id (as `showrunner validate` reports it). */
  cueBytes: number;
}

export interface DraftCheck {
  /** Nothing to check yet. */
  empty: boolean;
  /** Each with the path it is at (`polls[1].answers`); none when the show can start. */
  issues: ShowIssue[];
  /** The issues as `showrunner validate` prints them. */
  text: string;
  show: Show | null;
  questions: DraftQuestion[];
  /** What POST /producer/start gets, when there are no issues. */
  body: StartBody | null;
}

export { MAX_CUE_BYTES };

export function checkDraft(draft: Draft, now = new Date()): DraftCheck {
  const none = { issues: [], text: '', show: null, questions: [], body: null };
  if (draft.text.trim() === '') return { empty: true, ...none };
  const parsed = parseShowText(draft.text);
  if (!parsed.ok) return { ...none, empty: false, issues: parsed.issues, text: formatIssues(parsed.issues) };
  const show = parsed.value;
  const questions = show.polls.map((poll) => ({
    id: poll.id,
    at: String(poll.at),
    question: poll.question,
    answers: poll.answers,
    manual: poll.at === 'manual',
    quiz: poll.correct !== undefined,
    cueBytes: pollCueBytes(poll, show),
  }));

  // The show as written goes to the API (it becomes the execution input), with the start fields,
  // checked as the run's Plan step will check them.
  const written = JSON.parse(draft.text) as Record<string, unknown>;
  const body: StartBody = { show: written };
  const issues: ShowIssue[] = [];
  if (draft.when === 'at') {
    const at = draft.startAt === '' ? new Date(NaN) : new Date(draft.startAt);
    if (Number.isNaN(at.getTime())) issues.push({ path: 'startAt', message: 'choose a date and time' });
    else body.startAt = at.toISOString();
  }
  const channelArn = draft.channelArn.trim();
  if (channelArn !== '') body.channelArn = channelArn;
  const input = validateExecutionInput(
    { ...written, ...(body.startAt ? { startAt: body.startAt } : {}), ...(channelArn ? { channelArn } : {}) },
    { now },
  );
  if (!input.ok) issues.push(...input.issues.filter((i) => i.path === 'startAt' || i.path === 'channelArn'));
  return {
    empty: false,
    issues,
    text: formatIssues(issues),
    show,
    questions,
    body: issues.length === 0 ? body : null,
  };
}
