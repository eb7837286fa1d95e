// The viewer's identity: a random UUID kept in localStorage, so a reload keeps their answers.
const KEY = 'requestor_id';

export function requestorId(storage: Storage = localStorage): string {
  let id = storage.getItem(KEY);
  if (!id || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
    id = crypto.randomUUID();
    storage.setItem(KEY, id);
  }
  return id;
}
