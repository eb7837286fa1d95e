// Nicknames (issue 22, core/nickname.ts): each test is named after the rule it checks. The
// profanity filter is the real one the API is to use: obscenity's English preset.
import { describe, expect, it } from '@jest/globals';
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import { displayName } from '../../core/leaderboard.ts';
import { MAX_NICKNAME_LENGTH, checkNickname } from '../../core/nickname.ts';

const matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
const check = (raw: string) => checkNickname(raw, (text) => matcher.hasMatch(text));

describe('checkNickname: "1–20 characters after Unicode NFC"', () => {
  it('accepts a name and gives it back NFC-normalised and trimmed', () => {
    expect(check('  Ada  ')).toEqual({ ok: true, nickname: 'Ada' });
    // "é" as e + U+0301 becomes the one code point U+00E9.
    expect(check('Rene\u0301')).toEqual({ ok: true, nickname: 'Ren\u00e9' });
  });

  it('every run of spaces (any Zs) becomes one space, so look-alike names are one name', () => {
    expect(check('Ada\u00a0\u3000 Lovelace')).toEqual({ ok: true, nickname: 'Ada Lovelace' });
  });

  it('"1–20 characters": counted in code points after NFC and trimming', () => {
    expect(MAX_NICKNAME_LENGTH).toBe(20);
    expect(check('x'.repeat(20))).toMatchObject({ ok: true });
    expect(check('x'.repeat(21))).toEqual({
      ok: false,
      reason: 'length',
      message: 'nickname: expected 1–20 characters, got 21',
    });
    expect(check('   ')).toEqual({
      ok: false,
      reason: 'length',
      message: 'nickname: expected 1–20 characters, got 0',
    });
    // 20 four-byte code points fit (80 bytes); NFC first: 20 × (e + U+0301) is 20, not 40.
    expect(check('𝒜'.repeat(20))).toMatchObject({ ok: true });
    expect(check('e\u0301'.repeat(20))).toMatchObject({ ok: true });
  });

  it('code points, not graphemes: a flag or an emoji with a skin tone counts 2', () => {
    expect(check('🇫🇷'.repeat(10))).toMatchObject({ ok: true });
    expect(check(`${'🇫🇷'.repeat(10)}x`)).toMatchObject({ ok: false, reason: 'length' });
    expect(check('👍🏽')).toMatchObject({ ok: true }); // U+FE0F-free, U+1F3FD is a modifier, not a format character
  });
});

describe('checkNickname: "no control, bidi-override or zero-width characters"', () => {
  const refused = (raw: string, codePoint: string) =>
    expect(check(raw)).toEqual({
      ok: false,
      reason: 'characters',
      message: expect.stringMatching(new RegExp(`^nickname: ${codePoint} is `)),
    });

  it('control characters (Cc): tab, newline, NUL, DEL, C1', () => {
    refused('Ada\tL', 'U\\+0009');
    refused('Ada\nL', 'U\\+000A');
    refused('\0', 'U\\+0000');
    refused('A\u007f', 'U\\+007F');
    refused('A\u0085', 'U\\+0085');
  });

  it('bidi overrides and isolates (U+202A–202E, U+2066–2069) and the bidi marks', () => {
    for (const cp of [
      0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x61c,
    ]) {
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      refused(`Ada${String.fromCodePoint(cp)}x`, `U\\+${hex}`);
    }
    expect(check('\u202Egnp.exe')).toMatchObject({
      message: expect.stringContaining('bidirectional control'),
    });
  });

  it('zero-width characters (U+200B–200D, U+2060, U+FEFF), even where trimming would drop them', () => {
    for (const cp of [0x200b, 0x200c, 0x200d, 0x2060, 0xfeff]) {
      const hex = cp.toString(16).toUpperCase().padStart(4, '0');
      refused(`A${String.fromCodePoint(cp)}da`, `U\\+${hex}`);
    }
    refused('\ufeffAda', 'U\\+FEFF');
    expect(check('A\u200bda')).toMatchObject({ message: expect.stringContaining('zero-width') });
  });

  it('other format characters (Cf): soft hyphen, tag characters, interlinear annotation', () => {
    refused('Ad\u00ada', 'U\\+00AD');
    refused('Ada\u{E0041}', 'U\\+E0041');
    refused('Ada\ufff9', 'U\\+FFF9');
  });

  it('unpaired surrogates and line or paragraph separators', () => {
    refused('Ada\ud800', 'U\\+D800');
    refused('Ada\u2028x', 'U\\+2028');
    refused('Ada\u2029x', 'U\\+2029');
  });

  it('letters of any script, digits, punctuation and emoji pass', () => {
    for (const name of ['Zoë', 'محمد', 'שלום', '王小明', 'Ελένη', "O'Brien-2", '🐱 cat', 'Ω≈ç√']) {
      expect(check(name)).toEqual({ ok: true, nickname: name });
    }
  });
});

describe('checkNickname: "hidden and unnamed players show as "Player" plus a short id"', () => {
  it("a name that passes for an unnamed player's is refused as reserved", () => {
    const impostor = displayName(null, true, 'someone-else');
    expect(check(impostor)).toEqual({
      ok: false,
      reason: 'reserved',
      message: `nickname: "${impostor}" is how players without a nickname are shown; choose another`,
    });
    expect(check(` ${impostor.toLowerCase()} `)).toMatchObject({ reason: 'reserved' });
    expect(check('Player One')).toMatchObject({ ok: true });
  });
});

describe('checkNickname: "refused with a clear reason if a maintained profanity filter (`obscenity`) flags it"', () => {
  it('flagged names are refused without echoing the word', () => {
    for (const name of ['fuck', 'FuckFace', 'fuuuuck', 'sh1t', 'b1tch']) {
      const result = check(name);
      expect(result).toEqual({
        ok: false,
        reason: 'profanity',
        message: 'nickname: refused by the profanity filter; choose another',
      });
    }
  });

  it('look-alike letters are caught: the filter sees the normalised name', () => {
    expect(check('ʃṳ𝒸𝗄')).toMatchObject({ reason: 'profanity' });
  });

  it('the Scunthorpe problem stays solved: ordinary names with rude substrings pass', () => {
    for (const name of ['Scunthorpe', 'Cassandra', 'Dickens', 'analyst', 'Shitake', 'Classic']) {
      expect(check(name)).toEqual({ ok: true, nickname: name });
    }
  });

  it('the filter is a parameter (core/ imports only zod): it gets the name as it will be shown', () => {
    const seen: string[] = [];
    checkNickname(' Ada\u00a0 L ', (text) => (seen.push(text), false));
    expect(seen).toEqual(['Ada L']);
    // Refused before the filter runs: it is the costliest check.
    checkNickname('x'.repeat(30), (text) => (seen.push(text), false));
    expect(seen).toEqual(['Ada L']);
  });
});
