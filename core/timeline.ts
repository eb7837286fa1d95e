// When a poll is asked: seconds from show start, written as a number, "90", "1:30" or "1:02:03",
// or "manual" (the producer cues it). Pure parsing; the schema reports failures with their path.

export type AskAt = { kind: 'offset'; seconds: number } | { kind: 'manual' };

/**
 * Extra seconds a poll stays open after its duration, for viewers further behind live, when a show
 * does not say. Amazon IVS low-latency channels, played by the IVS player, are under 5 s from camera
 * to screen (IVS Player SDK guide), and a question is stamped at ingest, after the camera: 5 s lets
 * every such viewer answer until their own countdown ends, and keeps the wait for
 * results short (every second here is a second of dead air after each question). Shows that send
 * viewers to a standard-latency player or a CDN further behind raise it (0–60). Here rather than
 * beside the show schema, so the viewer page can read it without zod.
 */
export const DEFAULT_LATENCY_GRACE_SECONDS = 5;

/** A Step Functions Standard execution runs at most one year: every Wait of a run must end within it. */
export const MAX_RUN_SECONDS = 365 * 86_400;
/**
 * The latest a question may be asked, in seconds from the run's start (and from the moment the run
 * is started, counting a later `startAt`): a day short of the year, so the last poll can still close
 * (≤ 1800 s duration + 60 s grace) and send its results inside the execution.
 */
export const MAX_AT_SECONDS = MAX_RUN_SECONDS - 86_400;

export const tooLateMessage = (value: number | string) =>
  `expected at most ${MAX_AT_SECONDS} seconds (364 days) from show start, got ${value}: ` +
  'a run must ask its last question within the year a Step Functions execution may last';

const CLOCK = /^(?:(\d+):)?(\d+):(\d{2})$/;

/** Parses an `at` value; returns an error message (no path) when it is not one of the forms above. */
export function parseAt(value: number | string): AskAt | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return `expected a number of seconds ≥ 0, got ${value}`;
    if (value > MAX_AT_SECONDS) return tooLateMessage(value);
    return { kind: 'offset', seconds: value };
  }
  const text = value.trim();
  if (text === 'manual') return { kind: 'manual' };
  if (/^\d+(\.\d+)?$/.test(text)) return checked(Number(text), value);
  const match = CLOCK.exec(text);
  if (!match) return `expected seconds, "m:ss", "h:mm:ss" or "manual", got "${value}"`;
  const [, h, m, s] = match;
  const hours = h === undefined ? 0 : Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  if (seconds > 59) return `seconds must be 00–59 in "${value}"`;
  if (h !== undefined && minutes > 59) return `minutes must be 00–59 in "${value}"`;
  return checked(hours * 3600 + minutes * 60 + seconds, value);
}

function checked(seconds: number, value: string): AskAt | string {
  return seconds > MAX_AT_SECONDS ? tooLateMessage(`"${value}"`) : { kind: 'offset', seconds };
}

/** Formats seconds as m:ss or h:mm:ss, the way producers write them. */
export function formatOffset(totalSeconds: number): string {
  const whole = Math.round(totalSeconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
