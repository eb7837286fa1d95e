// When a poll is asked: seconds from show start, written as a number, "90", "1:30" or "1:02:03",
// or "manual" (the producer cues it). Pure parsing; the schema reports failures with their path.

export type AskAt = { kind: 'offset'; seconds: number } | { kind: 'manual' };

const CLOCK = /^(?:(\d+):)?(\d+):(\d{2})$/;

/** Parses an `at` value; returns an error message (no path) when it is not one of the forms above. */
export function parseAt(value: number | string): AskAt | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) return `expected a number of seconds ≥ 0, got ${value}`;
    return { kind: 'offset', seconds: value };
  }
  const text = value.trim();
  if (text === 'manual') return { kind: 'manual' };
  if (/^\d+(\.\d+)?$/.test(text)) return { kind: 'offset', seconds: Number(text) };
  const match = CLOCK.exec(text);
  if (!match) return `expected seconds, "m:ss", "h:mm:ss" or "manual", got "${value}"`;
  const [, h, m, s] = match;
  const hours = h === undefined ? 0 : Number(h);
  const minutes = Number(m);
  const seconds = Number(s);
  if (seconds > 59) return `seconds must be 00–59 in "${value}"`;
  if (h !== undefined && minutes > 59) return `minutes must be 00–59 in "${value}"`;
  return { kind: 'offset', seconds: hours * 3600 + minutes * 60 + seconds };
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
