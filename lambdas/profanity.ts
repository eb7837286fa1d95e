// The profanity filter nicknames are checked with (core/nickname.ts takes it as a parameter: core/
// imports nothing but zod): obscenity's English preset, its matcher built once per container (the
// dataset compiles to a few hundred patterns) and reused for every request.
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import type { ProfanityCheck } from '../core/nickname.ts';

let matcher: RegExpMatcher | undefined;

/** Whether a text is offensive, by obscenity's English dataset and recommended transformers. */
export const isProfane: ProfanityCheck = (text) => {
  matcher ??= new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
  return matcher.hasMatch(text);
};
