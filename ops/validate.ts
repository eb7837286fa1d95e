// validate: checks show files (or show text) and says, per file, what is wrong (each issue named
// by its path in the show: `polls[2].answers: …`) or what each question costs as a cue.
import { readFile } from 'node:fs/promises';
import { formatIssues, parseShowText, pollCueBytes, type Show } from '../core/show.ts';

export interface CheckedShow {
  /** The file name (or whatever label the caller gave the text). */
  file: string;
  ok: boolean;
  /** `path: message` per issue; a file that cannot be read has one. Empty when ok. */
  issues: string[];
  /** The show as validated (defaults applied); present when ok. */
  show?: Show;
  /** The parsed JSON as written (what `start` sends); present when ok. */
  raw?: unknown;
  /** Each question's `at` as written and the size of its cue (present when ok). */
  polls?: Array<{ id: string; at: number | string; cueBytes: number }>;
}

export function checkShowText(file: string, text: string): CheckedShow {
  const checked = parseShowText(text);
  if (!checked.ok) return { file, ok: false, issues: formatIssues(checked.issues).split('\n') };
  const show = checked.value;
  return {
    file,
    ok: true,
    issues: [],
    show,
    raw: JSON.parse(text),
    polls: show.polls.map((p) => ({ id: p.id, at: p.at, cueBytes: pollCueBytes(p) })),
  };
}

export async function checkShowFile(file: string): Promise<CheckedShow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { file, ok: false, issues: [`cannot read it (${e.code ?? e.message})`] };
  }
  return checkShowText(file, text);
}

/** Every file checked (in order); none of them throws. */
export function validate(files: readonly string[]): Promise<CheckedShow[]> {
  return Promise.all(files.map(checkShowFile));
}
