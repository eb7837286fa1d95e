// The viewer's nickname: what the leaderboard shows of them. Checked here as the API checks it
// (core/nickname.ts, without the profanity filter, which only the API has), saved with
// PUT /requestor-name, and kept beside the identity (the API has no read of it). It may be changed
// until the first quiz question has closed; then the API refuses (409 name_locked) and the form goes.
import { checkNickname, MAX_NICKNAME_LENGTH } from '../../../core/nickname.ts';
import { fieldWords } from './api.ts';
import { ApiFailure } from './http.ts';
import type { NicknameStore } from './identity.ts';
import type { Viewer } from './viewer.ts';

export { MAX_NICKNAME_LENGTH };

interface NicknameView {
  /** The name the API stored, or null before any. */
  readonly saved: string | null;
  readonly saving: boolean;
  /** Why the last save failed, in words; null after a success. */
  readonly error: string | null;
  /** Names are fixed: the first quiz question has closed. */
  readonly locked: boolean;
}

export class NicknameState {
  readonly #viewer: Viewer;
  readonly #store: NicknameStore;
  #view = $state.raw<NicknameView>({ saved: null, saving: false, error: null, locked: false });

  constructor(viewer: Viewer, store: NicknameStore) {
    this.#viewer = viewer;
    this.#store = store;
    const id = viewer.requestorId;
    if (id) this.#view = { ...this.#view, saved: store.load(id) };
  }

  get saved(): string | null {
    return this.#view.saved;
  }
  get saving(): boolean {
    return this.#view.saving;
  }
  get error(): string | null {
    return this.#view.error;
  }
  get locked(): boolean {
    return this.#view.locked;
  }

  /** Saves `raw` as the viewer's nickname; true when it is now theirs. */
  async save(raw: string): Promise<boolean> {
    if (this.#view.saving || this.#view.locked) return false;
    const check = checkNickname(raw, () => false);
    if (!check.ok) {
      this.#view = { ...this.#view, error: fieldWords(check.message) };
      return false;
    }
    this.#view = { ...this.#view, saving: true, error: null };
    try {
      const stored = await this.#viewer.call((api, viewer) => api.nickname(viewer, check.nickname));
      this.#store.save(stored.requestor_id, stored.nickname);
      this.#view = { ...this.#view, saved: stored.nickname, saving: false };
      return true;
    } catch (error) {
      const failure = error instanceof ApiFailure ? error : null;
      const locked = failure?.code === 'name_locked';
      const words =
        failure?.code === 'bad_request'
          ? fieldWords(failure.message)
          : (failure?.words ?? 'Your name could not be saved. Please try again.');
      this.#view = { ...this.#view, saving: false, locked: this.#view.locked || locked, error: words };
      return false;
    }
  }

  /** The first quiz question has closed: names are fixed from now on. */
  lock(): void {
    if (!this.#view.locked) this.#view = { ...this.#view, locked: true, error: null };
  }
}
