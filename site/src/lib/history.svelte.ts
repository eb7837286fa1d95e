// The viewer's answers, newest first, a page at a time: read again from the start (`load(true)`)
// whenever they may have changed, and the next page appended on request.
import type { HistoryEntry } from '../../../contract/api.ts';
import { ApiFailure } from './http.ts';
import type { Viewer } from './viewer.ts';

interface HistoryList {
  readonly items: readonly HistoryEntry[];
  readonly cursor: string | null;
  readonly loading: boolean;
  readonly error: string | null;
}

export class AnswerHistory {
  readonly #viewer: Viewer;
  #list = $state.raw<HistoryList>({ items: [], cursor: null, loading: false, error: null });

  constructor(viewer: Viewer) {
    this.#viewer = viewer;
  }

  get items(): readonly HistoryEntry[] {
    return this.#list.items;
  }
  /** Where the next page starts; null on the last page. */
  get cursor(): string | null {
    return this.#list.cursor;
  }
  get loading(): boolean {
    return this.#list.loading;
  }
  get error(): string | null {
    return this.#list.error;
  }

  /** The first page (`reset`), replacing the list, or the next one, appended. */
  async load(reset: boolean): Promise<void> {
    if (this.#list.loading) return;
    this.#list = { ...this.#list, loading: true };
    try {
      const cursor = reset ? null : this.#list.cursor;
      const page = await this.#viewer.call((api, viewer) => api.history(viewer, cursor));
      this.#list = {
        items: reset ? page.items : [...this.#list.items, ...page.items],
        cursor: page.next_cursor,
        loading: false,
        error: null,
      };
    } catch (error) {
      this.#list = {
        ...this.#list,
        loading: false,
        error: error instanceof ApiFailure ? error.words : 'Your history could not be loaded.',
      };
    }
  }
}
