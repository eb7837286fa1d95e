// A viewer's nickname (issue 22): what the leaderboard may show of it. Every viewer's name reaches
// every other viewer's screen through the leaderboard cue, so a name must not be able to reorder
// or hide text around it (bidi controls, zero-width and other format characters), break a line,
// pass for another player ("Player 7K3Q"), outgrow its share of the 1,024-byte cue, or be
// offensive. The profanity check is a parameter: core/ imports nothing but zod
// (docs/ARCHITECTURE.md, "Layers and dependency rules"), so the caller passes the filter in (the
// API builds it from the `obscenity` package).
import { isFallbackName } from './leaderboard.ts';

/** The longest nickname, in Unicode code points (so at most 80 UTF-8 bytes). */
export const MAX_NICKNAME_LENGTH = 20;

/** Whether a text is offensive: e.g. obscenity's RegExpMatcher `hasMatch`. */
export type ProfanityCheck = (text: string) => boolean;

export type NicknameRefusalReason =
  /** Empty once trimmed, or longer than MAX_NICKNAME_LENGTH code points. */
  | 'length'
  /** A control, format (bidi, zero-width…), surrogate or line/paragraph separator character. */
  | 'characters'
  /** Looks like the name of a player without a nickname ("Player 7K3Q"). */
  | 'reserved'
  /** The profanity filter flags it. */
  | 'profanity';

export type NicknameCheck =
  { ok: true; nickname: string } | { ok: false; reason: NicknameRefusalReason; message: string };

/**
 * Characters a name may not hold, each with why, most specific first. Cf (format) covers the bidi
 * overrides and isolates (U+202A–202E, U+2066–2069), the marks (U+200E, U+200F, U+061C), the
 * zero-width characters (U+200B–200D, U+2060, U+FEFF) and tag characters; they are listed apart
 * only to name them in the message.
 */
const FORBIDDEN: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /\p{Cc}/u, what: 'a control character' },
  {
    pattern: /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/u,
    what: 'a bidirectional control, which can reorder the text around it',
  },
  { pattern: /[\u200B-\u200D\u2060\uFEFF]/u, what: 'a zero-width character, which hides in the text' },
  { pattern: /\p{Cf}/u, what: 'an invisible format character' },
  { pattern: /\p{Cs}/u, what: 'half of a character (an unpaired surrogate)' },
  { pattern: /[\p{Zl}\p{Zp}]/u, what: 'a line or paragraph separator' },
];

/** U+XXXX of a character. */
const codePointOf = (char: string) => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Checks a nickname and gives it back display-ready: Unicode NFC, trimmed, every run of spaces
 * (any Zs, e.g. U+00A0, U+3000) one U+0020, so "Bob" and "Bob " are one name. Refused, with a
 * message that names the field (`nickname: …`) and never echoes a flagged word:
 *
 * - **characters**: control (Cc), format (Cf: bidi overrides and isolates, zero-width characters,
 *   …), unpaired surrogates (Cs) and line or paragraph separators (Zl, Zp), anywhere in the text
 *   as sent (a zero-width character is refused even at an end trimming would drop);
 * - **length**: 1–20 code points after normalising. Code points, not grapheme clusters: a cluster
 *   may hold any number of combining marks, so counting clusters would leave a name's bytes
 *   unbounded; in code points a name is at most 80 UTF-8 bytes, which the leaderboard cue is sized
 *   for. An emoji with a skin tone or a flag counts 2 (ZWJ sequences are refused with U+200D);
 * - **reserved**: "Player" + a short id, the name of a player without a nickname (displayName);
 * - **profanity**: `isProfane` flags it (checked last: it is the costliest check).
 */
export function checkNickname(raw: string, isProfane: ProfanityCheck): NicknameCheck {
  const text = raw.normalize('NFC');
  for (const { pattern, what } of FORBIDDEN) {
    const found = pattern.exec(text);
    if (found) {
      return refuse(
        'characters',
        `${codePointOf(found[0])} is ${what}; use letters, digits, spaces or emoji`,
      );
    }
  }
  const nickname = text.trim().replace(/\p{Zs}+/gu, ' ');
  const length = [...nickname].length;
  if (length < 1 || length > MAX_NICKNAME_LENGTH) {
    return refuse('length', `expected 1–${MAX_NICKNAME_LENGTH} characters, got ${length}`);
  }
  if (isFallbackName(nickname)) {
    return refuse('reserved', `"${nickname}" is how players without a nickname are shown; choose another`);
  }
  if (isProfane(nickname)) return refuse('profanity', 'refused by the profanity filter; choose another');
  return { ok: true, nickname };
}

function refuse(reason: NicknameRefusalReason, detail: string): NicknameCheck {
  return { ok: false, reason, message: `nickname: ${detail}` };
}
