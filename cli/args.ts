// Argument checks that name the flag or argument at fault (`--at: …`, `RUN: …`), for every command.
import { RUN_ID_PATTERN } from '../contract/state-machine.ts';
import { parseAt } from '../core/timeline.ts';
import { UsageError } from '../ops/errors.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const TIME_OF_DAY = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
/** RUN: a run id, or the execution ARN that ends with it. */
const RUN = new RegExp(
  `^(arn:aws[a-z-]*:states:[a-z0-9-]+:\\d{12}:execution:[A-Za-z0-9_-]+:)?${RUN_ID_PATTERN}$`,
);

/**
 * `--at`: when the show starts. An ISO 8601 date-time with a zone, a time of day today ("18:30",
 * local time), "+SECONDS" / "+m:ss" / "+h:mm:ss" from now, or "now".
 */
export function parseStartAt(value: string, now: Date): Date {
  const text = value.trim();
  const expected =
    'expected an ISO 8601 date-time (2026-11-25T18:00:00Z), a time today (18:30), +seconds or +m:ss from now, or "now"';
  let at: Date;
  if (text === 'now') at = now;
  else if (text.startsWith('+')) {
    const offset = parseAt(text.slice(1));
    if (typeof offset === 'string' || offset.kind !== 'offset')
      throw new UsageError(`--at: ${expected}, got "${value}"`);
    at = new Date(now.getTime() + offset.seconds * 1000);
  } else if (ISO.test(text) && !Number.isNaN(Date.parse(text))) at = new Date(text);
  else {
    const match = TIME_OF_DAY.exec(text);
    if (!match) throw new UsageError(`--at: ${expected}, got "${value}"`);
    const [h, m, s] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) throw new UsageError(`--at: "${value}" is not a time of day`);
    at = new Date(now);
    at.setHours(h, m, s, 0);
  }
  if (at.getTime() < now.getTime() - 5000) {
    throw new UsageError(`--at: ${at.toISOString()} is in the past (now is ${now.toISOString()})`);
  }
  return at;
}

export function parseLimit(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw new UsageError(`${flag}: expected a whole number from 1 to ${max}, got "${value}"`);
  return n;
}

export function requireOne(positionals: readonly string[], name: string, usage: string): string {
  if (positionals.length === 0) throw new UsageError(`${name}: missing (usage: ${usage})`);
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}" (usage: ${usage})`);
  const value = positionals[0]!;
  if (!RUN.test(value)) {
    throw new UsageError(
      `${name}: expected a run id (as \`showrunner list\` shows) or an execution ARN, got "${value}"`,
    );
  }
  return value;
}

/** `--audience`: whole viewers from min to max (250000, 250_000 or 250,000); undefined when not given. */
export function parseAudienceFlag(value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const digits = /^\d+$/.test(text) || /^\d{1,3}(?:([,_])\d{3})(?:\1\d{3})*$/.test(text);
  const n = digits ? Number(text.replace(/[,_]/g, '')) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = `${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}`;
    throw new UsageError(`--audience: expected a whole number of viewers from ${range}, got "${value}"`);
  }
  return n;
}

/** `--region`: an AWS region name (eu-west-1, us-gov-west-1…); undefined when not given. */
export function parseRegionFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(value))
    throw new UsageError(`--region: expected an AWS region such as eu-west-1, got "${value}"`);
  return value;
}
