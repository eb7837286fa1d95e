// The viewer's identity: the {requestor_id, token} the API issued (POST /requestor-token), kept in
// localStorage so a reload keeps their answers. Votes and history reads carry the token.
import type { ViewerIdentity } from '../../../contract/api.ts';
import { REQUESTOR_ID } from '../../../core/ids.ts';

const KEY = 'showrunner.viewer';
/** Before tokens the page kept a bare id: the API no longer takes it, so it is dropped. */
const OLD_KEY = 'requestor_id';

export interface IdentityStore {
  load(): ViewerIdentity | null;
  save(identity: ViewerIdentity): void;
}

export function localIdentity(storage: Storage = localStorage): IdentityStore {
  return {
    load() {
      storage.removeItem(OLD_KEY);
      try {
        const value = JSON.parse(storage.getItem(KEY) ?? 'null') as Partial<ViewerIdentity> | null;
        if (typeof value?.requestor_id === 'string' && REQUESTOR_ID.test(value.requestor_id)) {
          if (typeof value.token === 'string' && value.token.length > 0) return value as ViewerIdentity;
        }
      } catch {
        // not ours, or damaged: a new identity replaces it
      }
      return null;
    },
    save(identity) {
      storage.setItem(KEY, JSON.stringify(identity));
    },
  };
}
