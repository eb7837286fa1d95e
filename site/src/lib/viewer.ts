// This viewer, as the API knows them: the identity kept from before, or a new one the API issues
// (once, however many calls want it at the same time). A call as this viewer whose token the API no
// longer takes (its secret was replaced) is made once more with a new identity: the viewer's
// earlier answers stay with the old one.
import type { ViewerIdentity } from '../../../contract/api.ts';
import type { ShowApi } from './api.ts';
import type { ApiConnection } from './connection.svelte.ts';
import { ApiFailure } from './http.ts';
import type { IdentityStore } from './identity.ts';

export class Viewer {
  readonly #store: IdentityStore;
  readonly #connection: ApiConnection<ShowApi>;
  #identity: ViewerIdentity | null;
  #issuing: Promise<ViewerIdentity> | undefined;

  constructor(store: IdentityStore, connection: ApiConnection<ShowApi>) {
    this.#store = store;
    this.#connection = connection;
    this.#identity = store.load();
  }

  /** The viewer's id, once they have one (kept from before, or issued). */
  get requestorId(): string | null {
    return this.#identity?.requestor_id ?? null;
  }

  /** A call as this viewer. */
  async call<T>(fn: (api: ShowApi, viewer: ViewerIdentity) => Promise<T>): Promise<T> {
    // No await when the identity is known: the call goes out at once, like any other.
    const viewer = this.#identity ?? (await this.#issue());
    try {
      return await this.#connection.call((api) => fn(api, viewer));
    } catch (error) {
      if (!(error instanceof ApiFailure) || error.code !== 'unauthorized' || this.#identity !== viewer)
        throw error;
      this.#identity = null;
      return this.#connection.call(async (api) => fn(api, await this.#issue()));
    }
  }

  /** The identity kept, or a new one the API issues (once). */
  async #issue(): Promise<ViewerIdentity> {
    if (this.#identity) return this.#identity;
    this.#issuing ??= this.#connection
      .call((api) => api.identity())
      .then((identity) => {
        this.#store.save(identity);
        this.#identity = identity;
        return identity;
      })
      .finally(() => (this.#issuing = undefined));
    return this.#issuing;
  }
}
