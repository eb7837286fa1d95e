// The viewer's answers, newest first, a page at a time: read again from the start (`load(true)`)
// whenever they may have changed, and the next page appended on request. Each quiz answer shows
// the points it earned (once its question closed) and the run's running total up to it.
import type { HistoryEntry } from '../../../contract/api.ts';
import { splitPollId } from '../../../core/ids.ts';
import { ApiFailure } from './http.ts';
import type { Recalled } from './question.svelte.ts';
import type { Viewer } from './viewer.ts';

/** One answer as the page lists it. */
export interface HistoryRow {
  readonly entry: HistoryEntry;
  /** The points it earned: quiz questions, once closed. */
  readonly points?: number;
  /** The run's total up to and including this answer (over the answers loaded), with `points`. */
  readonly total?: number;
}

interface HistoryList {
  readonly items: readonly HistoryEntry[];
  readonly cursor: string | null;
  readonly loading: boolean;
  readonly error: string | null;
}

export class AnswerHistory {
  readonly #viewer: Viewer;
  #list = $state.raw<HistoryList>({ items: [], cursor: null, loading: false, error: null });

  /** The answers with their points and each run's running total, newest first like the list. */
  readonly rows: readonly HistoryRow[] = $derived.by(() => {
    const totals = new Map<string, number>();
    const rows: HistoryRow[] = [];
    // Oldest first, to add up.
    for (let i = this.#list.items.length - 1; i >= 0; i--) {
      const entry = this.#list.items[i]!;
      if (entry.points === undefined) {
        rows.push({ entry });
        continue;
      }
      const run = splitPollId(entry.poll_id)?.runId ?? entry.poll_id;
      const total = (totals.get(run) ?? 0) + entry.points;
      totals.set(run, total);
      rows.push({ entry, points: entry.points, total });
    }
    return rows.reverse();
  });

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

  /** This viewer's answer to a poll, if the loaded history has it. */
  recall(pollId: string): Recalled | null {
    const entry = this.#list.items.find((item) => item.poll_id === pollId);
    if (!entry) return null;
    return entry.points === undefined
      ? { answer: entry.answer }
      : { answer: entry.answer, points: entry.points };
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
