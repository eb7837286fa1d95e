// validate: checks show files (or a show the producer API received) and says, per show, what is
// wrong (each issue named by its path in the show: `polls[2].answers: …`) or what each question
// costs as a cue. A show that passes is a ValidShow: `start` takes it as it is, unchecked again.
import { readFile } from 'node:fs/promises';
import { formatIssues, pollCueBytes, readShowText, ValidShow, type ShowValidation } from '../core/show.ts';

export interface CheckedShow {
  /** The file name (or whatever label the caller gave the show). */
  file: string;
  ok: boolean;
  /** `path: message` per issue; a file that cannot be read has one. Empty when ok. */
  issues: string[];
  /** The show as written and as validated (defaults applied); present when ok. */
  valid?: ValidShow;
  /** Each question's `at` as written and the size of its cue (present when ok). */
  polls?: Array<{ id: string; at: number | string; cueBytes: number }>;
}

function report(file: string, checked: ShowValidation<ValidShow>): CheckedShow {
  if (!checked.ok) return { file, ok: false, issues: formatIssues(checked.issues).split('\n') };
  const valid = checked.value;
  return {
    file,
    ok: true,
    issues: [],
    valid,
    polls: valid.show.polls.map((p) => ({ id: p.id, at: p.at, cueBytes: pollCueBytes(p, valid.show) })),
  };
}

/** A show already parsed from JSON (a request body), labelled `file`. */
export function checkShow(file: string, show: unknown): CheckedShow {
  return report(file, ValidShow.check(show));
}

/** Show file text; JSON syntax errors are issues too. */
export function checkShowText(file: string, text: string): CheckedShow {
  return report(file, readShowText(text));
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
