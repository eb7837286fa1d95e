// validate: each file with its questions (stdout), or what is wrong with it (stderr); or --json.
import { MAX_CUE_BYTES } from '../../contract/cues.ts';
import { formatOffset, parseAt } from '../../core/timeline.ts';
import type { CheckedShow } from '../../ops/validate.ts';
import { table } from '../format.ts';

export interface Chunk {
  stream: 'out' | 'err';
  text: string;
}

export function renderValidate(checked: readonly CheckedShow[], json: boolean): Chunk[] {
  if (json) {
    const files = checked.map((r) => ({
      file: r.file,
      ok: r.ok,
      issues: r.issues,
      ...(r.polls ? { polls: r.polls } : {}),
    }));
    return [{ stream: 'out', text: JSON.stringify(files, null, 2) + '\n' }];
  }
  const chunks: Chunk[] = [];
  for (const r of checked) {
    if (!r.valid) {
      chunks.push({ stream: 'err', text: renderIssues(r.file, r.issues, '') });
      continue;
    }
    const show = r.valid.show;
    const cueBytes = r.polls?.map((p) => p.cueBytes) ?? [];
    const n = show.polls.length;
    chunks.push({
      stream: 'out',
      text: `✓ ${r.file}: "${show.title}" (${show.id}), ${n} question${n === 1 ? '' : 's'}, grace ${show.latencyGraceSeconds} s\n`,
    });
    chunks.push({
      stream: 'out',
      text: indent(
        table(
          show.polls.map((p, i) => ({ p, bytes: cueBytes[i] ?? 0 })),
          [
            { header: 'ID', value: ({ p }) => p.id },
            { header: 'AT', value: ({ p }) => at(p.at) },
            {
              header: 'OPEN',
              value: ({ p }) => `${p.duration}+${show.latencyGraceSeconds} s`,
              align: 'right',
            },
            { header: 'CUE', value: ({ bytes }) => `${bytes}/${MAX_CUE_BYTES} B`, align: 'right' },
            {
              header: 'QUESTION',
              value: ({ p }) =>
                p.question + (p.correct !== undefined ? `  [quiz: ${p.answers[p.correct]}]` : ''),
              max: 60,
            },
          ],
        ),
      ),
    });
  }
  return chunks;
}

/** `✗ FILE[: note]` and each issue on its own line, prefixed with the file. */
export function renderIssues(file: string, issues: readonly string[], note: string): string {
  return `✗ ${file}${note}\n${issues.map((i) => `  ${file}: ${i}`).join('\n')}\n`;
}

const indent = (text: string) => text.replace(/^(?=.)/gm, '  ');

function at(value: number | string): string {
  const parsed = parseAt(value);
  if (typeof parsed === 'string') return String(value);
  return parsed.kind === 'manual' ? 'manual' : formatOffset(parsed.seconds);
}
