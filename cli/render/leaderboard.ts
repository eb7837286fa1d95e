// leaderboard: a run's standings as a table, JSON or CSV (one row per player, for spreadsheets); and
// hide-name's one line.
import {
  leaderboardCsv,
  leaderboardJson,
  type NameHidden,
  type RunLeaderboard,
} from '../../contract/producer.ts';
import { displayName } from '../../core/leaderboard.ts';
import { table } from '../format.ts';

export type LeaderboardFormat = 'table' | 'json' | 'csv';

/** Total answer time: "12.345 s" (the tie-break after the score, to the millisecond). */
export function answerTime(ms: number): string {
  return `${(ms / 1000).toFixed(3)} s`;
}

/** The name column: what viewers see, and a hidden nickname beside it for the producer. */
function nameCell(s: RunLeaderboard['standings'][number]): string {
  return s.hidden && s.nickname !== null ? `${s.name} (hidden: ${s.nickname})` : s.name;
}

export function renderLeaderboard(board: RunLeaderboard, format: LeaderboardFormat): string {
  // The export formats are the contract's: the control room downloads the same bytes.
  if (format === 'json') return leaderboardJson(board);
  if (format === 'csv') return leaderboardCsv(board);
  const { runId, players, final, standings } = board;
  const state = final ? 'final' : 'so far (quiz questions still to close)';
  const head = `${runId}  ${players} player${players === 1 ? '' : 's'}, ${state}\n\n`;
  if (standings.length === 0)
    return `${head}No player yet: nobody has answered a quiz question of this run.\n`;
  return (
    head +
    table(standings, [
      { header: 'RANK', value: (s) => String(s.rank), align: 'right' },
      { header: 'NAME', value: nameCell, max: 48 },
      { header: 'SCORE', value: (s) => String(s.score), align: 'right' },
      { header: 'ANSWER TIME', value: (s) => answerTime(s.total_answer_ms), align: 'right' },
      { header: 'REQUESTOR ID', value: (s) => s.requestor_id },
    ])
  );
}

export function renderNameHidden({ requestorId, hidden }: NameHidden, json: boolean): string {
  if (json) return JSON.stringify({ requestorId, hidden }) + '\n';
  return hidden
    ? `${requestorId}'s nickname is hidden: later leaderboards show them as "${displayName(null, true, requestorId)}"\n`
    : `${requestorId}'s nickname is shown again in later leaderboards\n`;
}
