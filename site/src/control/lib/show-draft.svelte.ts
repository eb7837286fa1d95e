// The show being prepared in the control room, checked as it is typed by the CLI's schema (and its
// start time and channel): the check is `$derived`.
import { checkDraft, emptyDraft, type Draft, type DraftCheck } from './draft.ts';

export class ShowDraft {
  /** Told of every change (a refused start no longer applies to the changed show). */
  readonly #changed: () => void;
  #draft = $state.raw<Draft>(emptyDraft);

  readonly check: DraftCheck = $derived(checkDraft(this.#draft));

  constructor(changed: () => void) {
    this.#changed = changed;
  }

  get value(): Draft {
    return this.#draft;
  }

  set(change: Partial<Draft>): void {
    this.#draft = { ...this.#draft, ...change };
    this.#changed();
  }
}
